package dispatch

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// Model algorithms.
const (
	AlgoLogistic   = "lr"    // multinomial logistic regression (the default)
	AlgoNaiveBayes = "nb"    // multinomial naive Bayes over n-gram presence
	AlgoBlend      = "lr+nb" // both, mixed per language
)

// modelMagic opens every model file; the trailing digit is the format version.
const modelMagic = "LXDISPM1"

// maxModelBytes bounds what a model file may inflate to.
const maxModelBytes = 256 << 20

// Model is a trained linear scorer over n-gram features: one weight per feature and label,
// a bias per label, and the temperature that calibrates its logits into probabilities.
type Model struct {
	Algo        string
	Labels      []string
	Features    []string
	Weights     []float32 // len(Features)*len(Labels), feature-major
	Bias        []float32
	IDF         []float32 // per feature, logistic regression only: rarer n-grams weigh more
	Temperature float64
	// FinalTemperature divides the logits after boosts: it calibrates a blend's scores
	// without changing its ranking (1 for single models, whose Temperature does both).
	FinalTemperature float64
	Examples         int // how many examples it was trained on

	// A blend has no weights of its own: its logits are its calibrated parts' (logistic
	// regression first, naive Bayes second), mixed by the first's share for the language.
	Parts        []*Model
	MixZH, MixEN float64

	index map[string]int32
}

// modelWire is the stored form of a Model: weights quantised to 8 bits per feature row
// (row-wise scale), which keeps the committed built-in model small at no cost in ranking.
type modelWire struct {
	Algo        string
	Labels      []string
	Features    []string
	Q           []int8
	Scale       []float32
	Bias        []float32
	IDF         []float32
	Temperature float64
	Final       float64
	Examples    int
	Parts       []modelWire
	MixZH       float64
	MixEN       float64
}

func (m *Model) wire() modelWire {
	if m.Algo == AlgoBlend {
		w := modelWire{Algo: m.Algo, Labels: m.Labels, Temperature: m.Temperature, Final: m.FinalTemperature, Examples: m.Examples, MixZH: m.MixZH, MixEN: m.MixEN}
		for _, p := range m.Parts {
			w.Parts = append(w.Parts, p.wire())
		}
		return w
	}
	nl := len(m.Labels)
	w := modelWire{Algo: m.Algo, Labels: m.Labels, Features: m.Features, Bias: m.Bias, IDF: m.IDF,
		Temperature: m.Temperature, Final: m.FinalTemperature, Examples: m.Examples, Q: make([]int8, len(m.Weights)), Scale: make([]float32, len(m.Features))}
	for f := range m.Features {
		row := m.Weights[f*nl:][:nl]
		var hi float64
		for _, v := range row {
			hi = math.Max(hi, math.Abs(float64(v)))
		}
		if hi == 0 {
			continue
		}
		w.Scale[f] = float32(hi / 127)
		for c, v := range row {
			w.Q[f*nl+c] = int8(math.Round(float64(v) / hi * 127))
		}
	}
	return w
}

func (w modelWire) model() (*Model, error) {
	if w.Algo == AlgoBlend {
		m := &Model{Algo: w.Algo, Labels: w.Labels, Temperature: w.Temperature, FinalTemperature: w.Final, Examples: w.Examples, MixZH: w.MixZH, MixEN: w.MixEN}
		for _, pw := range w.Parts {
			p, err := pw.model()
			if err != nil {
				return nil, err
			}
			m.Parts = append(m.Parts, p)
		}
		return m, nil
	}
	nl := len(w.Labels)
	if len(w.Q) != len(w.Features)*nl || len(w.Scale) != len(w.Features) {
		return nil, fmt.Errorf("%d weights and %d scales for %d features × %d labels", len(w.Q), len(w.Scale), len(w.Features), nl)
	}
	m := &Model{Algo: w.Algo, Labels: w.Labels, Features: w.Features, Bias: w.Bias, IDF: w.IDF,
		Temperature: w.Temperature, FinalTemperature: w.Final, Examples: w.Examples, Weights: make([]float32, len(w.Q))}
	for f, sc := range w.Scale {
		for c := range nl {
			m.Weights[f*nl+c] = sc * float32(w.Q[f*nl+c])
		}
	}
	return m, nil
}

// ErrCorruptModel is wrapped by every error about a model file that is not a valid model.
var ErrCorruptModel = errors.New("dispatch: corrupt or incompatible model file")

// MarshalBinary encodes the model in the file format: magic, payload length, CRC-32 of the
// payload, then the gzipped gob payload.
func (m *Model) MarshalBinary() ([]byte, error) {
	var payload bytes.Buffer
	zw, err := gzip.NewWriterLevel(&payload, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(zw).Encode(m.wire()); err != nil {
		return nil, fmt.Errorf("dispatch: encode model: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, 16, 16+payload.Len())
	copy(out, modelMagic)
	binary.LittleEndian.PutUint32(out[8:], uint32(payload.Len()))
	binary.LittleEndian.PutUint32(out[12:], crc32.ChecksumIEEE(payload.Bytes()))
	return append(out, payload.Bytes()...), nil
}

// Save writes the model file.
func (m *Model) Save(path string) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// LoadModel reads a model file; a file that is not a valid model is refused with an error
// wrapping ErrCorruptModel.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dispatch: model: %w", err)
	}
	m, err := ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return m, nil
}

// ParseModel decodes and validates a model file's bytes.
func ParseModel(b []byte) (*Model, error) {
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCorruptModel, fmt.Sprintf(format, a...))
	}
	if len(b) < 16 || string(b[:8]) != modelMagic {
		return nil, corrupt("not a dispatch model (bad magic)")
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if uint64(n) != uint64(len(b)-16) {
		return nil, corrupt("payload is %d bytes, header says %d (truncated?)", len(b)-16, n)
	}
	payload := b[16:]
	if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(b[12:]) {
		return nil, corrupt("checksum mismatch")
	}
	zr, err := gzip.NewReader(bytes.NewReader(payload))
	if err != nil {
		return nil, corrupt("%v", err)
	}
	var w modelWire
	if err := gob.NewDecoder(io.LimitReader(zr, maxModelBytes)).Decode(&w); err != nil {
		return nil, corrupt("%v", err)
	}
	m, err := w.model()
	if err != nil {
		return nil, corrupt("%v", err)
	}
	if err := m.validate(); err != nil {
		return nil, corrupt("%v", err)
	}
	return m, nil
}

func (m *Model) validate() error {
	if !(m.FinalTemperature > 0) || math.IsInf(m.FinalTemperature, 0) {
		return fmt.Errorf("final temperature %v", m.FinalTemperature)
	}
	if m.Algo == AlgoBlend {
		return m.validateBlend()
	}
	if m.Algo != AlgoLogistic && m.Algo != AlgoNaiveBayes {
		return fmt.Errorf("unknown algorithm %q", m.Algo)
	}
	nl := len(m.Labels)
	if nl < 2 || len(m.Bias) != nl {
		return fmt.Errorf("%d labels, %d biases", nl, len(m.Bias))
	}
	if len(m.Weights) != len(m.Features)*nl {
		return fmt.Errorf("%d weights for %d features × %d labels", len(m.Weights), len(m.Features), nl)
	}
	if m.Algo == AlgoLogistic && len(m.IDF) != len(m.Features) {
		return fmt.Errorf("%d IDF values for %d features", len(m.IDF), len(m.Features))
	}
	if !(m.Temperature > 0) || math.IsInf(m.Temperature, 0) {
		return fmt.Errorf("temperature %v", m.Temperature)
	}
	seen := make(map[string]bool, nl)
	for _, l := range m.Labels {
		if l == "" || seen[l] {
			return fmt.Errorf("label %q empty or repeated", l)
		}
		seen[l] = true
	}
	if !finite(m.Weights) || !finite(m.Bias) || !finite(m.IDF) {
		return errors.New("non-finite weight")
	}
	m.index = make(map[string]int32, len(m.Features))
	for i, f := range m.Features {
		if _, dup := m.index[f]; dup || f == "" {
			return fmt.Errorf("feature %q empty or repeated", f)
		}
		m.index[f] = int32(i)
	}
	return nil
}

func (m *Model) validateBlend() error {
	if len(m.Parts) != 2 || m.Parts[0].Algo != AlgoLogistic || m.Parts[1].Algo != AlgoNaiveBayes {
		return errors.New("a blend needs a logistic-regression part and a naive-Bayes part")
	}
	if !(m.Temperature > 0) || math.IsInf(m.Temperature, 0) {
		return fmt.Errorf("temperature %v", m.Temperature)
	}
	for _, w := range []float64{m.MixZH, m.MixEN} {
		if !(w >= 0 && w <= 1) {
			return fmt.Errorf("blend mix %v out of range", w)
		}
	}
	for _, p := range m.Parts {
		if err := p.validate(); err != nil {
			return err
		}
		if len(p.Labels) != len(m.Labels) {
			return errors.New("blend parts disagree on labels")
		}
		for i, l := range p.Labels {
			if l != m.Labels[i] {
				return errors.New("blend parts disagree on labels")
			}
		}
	}
	return nil
}

func finite(vs []float32) bool {
	for _, v := range vs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// logits scores a text's features for every label, before temperature. It returns the
// indices of the known features heard, so evidence can be drawn from them.
func (m *Model) logits(feats []feature, lang string, out []float64) (known []int) {
	if m.Algo != AlgoBlend {
		return m.linear(feats, out)
	}
	mix := m.MixEN
	if lang == "zh" {
		mix = m.MixZH
	}
	part := make([]float64, len(out))
	for c := range out {
		out[c] = 0
	}
	for k, p := range m.Parts {
		kn := p.linear(feats, part)
		if k == 0 {
			known = kn
		}
		w := mix
		if k > 0 {
			w = 1 - mix
		}
		for c, z := range part {
			out[c] += w * z / p.Temperature
		}
	}
	return known
}

// linear is the logits of a single (non-blend) model.
func (m *Model) linear(feats []feature, out []float64) (known []int) {
	seen := make(map[int32]bool, len(feats))
	nl := len(m.Labels)
	for i, f := range feats {
		j, ok := m.index[f.key]
		if !ok || seen[j] {
			continue
		}
		seen[j] = true
		known = append(known, i)
	}
	for c := range nl {
		out[c] = float64(m.Bias[c])
	}
	if len(known) == 0 {
		return nil
	}
	var norm float64
	for _, i := range known {
		v := m.value(m.index[feats[i].key])
		norm += v * v
	}
	scale := 1 / math.Sqrt(norm)
	if m.Algo == AlgoNaiveBayes {
		scale = 1
	}
	for _, i := range known {
		j := m.index[feats[i].key]
		v := scale * m.value(j)
		for c, w := range m.Weights[int(j)*nl:][:nl] {
			out[c] += v * float64(w)
		}
	}
	return known
}

// value is a present feature's value before normalisation.
func (m *Model) value(j int32) float64 {
	if m.Algo == AlgoNaiveBayes {
		return 1
	}
	return float64(m.IDF[j])
}

// contribution is how much feature f pushed label c above the average label.
func (m *Model) contribution(f string, c int) float64 {
	if m.Algo == AlgoBlend {
		return m.Parts[0].contribution(f, c)
	}
	j, ok := m.index[f]
	if !ok {
		return 0
	}
	nl := len(m.Labels)
	row := m.Weights[int(j)*nl:][:nl]
	var mean float64
	for _, w := range row {
		mean += float64(w)
	}
	return float64(row[c]) - mean/float64(nl)
}
