package dispatch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// TrainOptions tune Train; zero values take the defaults.
type TrainOptions struct {
	Algo string // AlgoBlend (default), AlgoLogistic or AlgoNaiveBayes
	// MixZH and MixEN are a blend's share of logistic regression for Chinese and English
	// text (defaults 0.8 and 0.3, chosen by scripts/bench-dispatch.sh).
	MixZH, MixEN float64
	Epochs       int     // logistic regression passes over the data (default 60)
	Rate         float64 // AdaGrad learning rate (default 0.5)
	L2           float64 // weight decay per update (default 3e-4)
	AltMix       float64 // share of an example's target given to its alt label (default 0.15)
	MinDF        int     // drop n-grams heard in fewer examples (default 1: keep all)
	Folds        int     // cross-validation folds for calibrating the temperature (default 5; 1 = none)
	Seed         uint64
}

func (o *TrainOptions) defaults() {
	if o.Algo == "" {
		o.Algo = AlgoBlend
	}
	if o.MixZH <= 0 {
		o.MixZH = 0.8
	}
	if o.MixEN <= 0 {
		o.MixEN = 0.3
	}
	if o.Epochs <= 0 {
		o.Epochs = 60
	}
	if o.Rate <= 0 {
		o.Rate = 0.5
	}
	if o.L2 <= 0 {
		o.L2 = 3e-4
	}
	if o.AltMix <= 0 {
		o.AltMix = 0.15
	}
	if o.MinDF <= 0 {
		o.MinDF = 1
	}
	if o.Folds <= 0 {
		o.Folds = 5
	}
}

// Train fits a model on labelled examples. Labels must be taxonomy ids. The temperature is
// chosen by cross-validation so that the classifier's scores, boosts included, are
// calibrated probabilities.
func Train(tax *Taxonomy, examples []Example, opts TrainOptions) (*Model, error) {
	opts.defaults()
	if opts.Algo != AlgoLogistic && opts.Algo != AlgoNaiveBayes && opts.Algo != AlgoBlend {
		return nil, fmt.Errorf("dispatch: unknown algorithm %q", opts.Algo)
	}
	if len(examples) < 2 {
		return nil, errors.New("dispatch: need at least two examples")
	}
	for i, ex := range examples {
		if tax.Index(ex.Label) < 0 {
			return nil, fmt.Errorf("dispatch: example %d (%q): label %q is not in the taxonomy", i+1, ex.Text, ex.Label)
		}
		if ex.Alt != "" && tax.Index(ex.Alt) < 0 {
			return nil, fmt.Errorf("dispatch: example %d (%q): alt %q is not in the taxonomy", i+1, ex.Text, ex.Alt)
		}
	}
	if opts.Algo == AlgoBlend {
		return trainBlend(tax, examples, opts)
	}
	m := fit(tax, examples, opts)
	m.Temperature = calibrate(tax, examples, opts.Folds, func(train []Example) *Model { return fit(tax, train, opts) })
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("dispatch: trained model invalid: %w", err)
	}
	return m, nil
}

// trainBlend trains and calibrates both parts, then fits the blend's final temperature by
// cross-validation over blends of parts trained on each fold.
func trainBlend(tax *Taxonomy, examples []Example, opts TrainOptions) (*Model, error) {
	blend := func(parts ...*Model) *Model {
		return &Model{Algo: AlgoBlend, Labels: tax.IDs(), Temperature: 1, FinalTemperature: 1, Examples: len(examples),
			MixZH: opts.MixZH, MixEN: opts.MixEN, Parts: parts}
	}
	algos := []string{AlgoLogistic, AlgoNaiveBayes}
	parts := make([]*Model, len(algos))
	for i, algo := range algos {
		o := opts
		o.Algo = algo
		p, err := Train(tax, examples, o)
		if err != nil {
			return nil, err
		}
		parts[i] = p
	}
	m := blend(parts...)
	m.FinalTemperature = calibrateFinal(tax, examples, opts.Folds, func(train []Example) *Model {
		fold := make([]*Model, len(algos))
		for i, algo := range algos {
			o := opts
			o.Algo = algo
			fold[i] = fit(tax, train, o)
			fold[i].Temperature = parts[i].Temperature
		}
		return blend(fold...)
	})
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("dispatch: trained model invalid: %w", err)
	}
	return m, nil
}

// sample is an example as the trainer sees it: feature ids, their values and the target
// distribution.
type sample struct {
	feats  []int32
	vals   []float64
	target map[int]float64
}

func fit(tax *Taxonomy, examples []Example, opts TrainOptions) *Model {
	vocab, idf := buildVocab(examples, opts.MinDF)
	index := make(map[string]int32, len(vocab))
	for i, f := range vocab {
		index[f] = int32(i)
	}
	samples := make([]sample, len(examples))
	for i, ex := range examples {
		samples[i] = toSample(tax, ex, index, opts.AltMix)
		var norm float64
		for _, f := range samples[i].feats {
			v := float64(idf[f])
			samples[i].vals = append(samples[i].vals, v)
			norm += v * v
		}
		for k := range samples[i].vals {
			samples[i].vals[k] /= math.Sqrt(norm)
		}
	}
	m := &Model{Algo: opts.Algo, Labels: tax.IDs(), Features: vocab, Examples: len(examples), Temperature: 1, FinalTemperature: 1}
	if opts.Algo == AlgoLogistic {
		m.IDF = idf
	}
	nl := len(m.Labels)
	m.Weights = make([]float32, len(vocab)*nl)
	m.Bias = make([]float32, nl)
	if opts.Algo == AlgoNaiveBayes {
		fitNB(m, samples)
	} else {
		fitLR(m, samples, opts)
	}
	m.index = index
	return m
}

func buildVocab(examples []Example, minDF int) ([]string, []float32) {
	df := map[string]int{}
	for _, ex := range examples {
		seen := map[string]bool{}
		for _, f := range extract(normalize(ex.Text)) {
			if !seen[f.key] {
				seen[f.key] = true
				df[f.key]++
			}
		}
	}
	var vocab []string
	for f, n := range df {
		if n >= minDF {
			vocab = append(vocab, f)
		}
	}
	sort.Strings(vocab)
	idf := make([]float32, len(vocab))
	for i, f := range vocab {
		idf[i] = float32(math.Log(float64(1+len(examples)) / float64(1+df[f])))
	}
	return vocab, idf
}

func toSample(tax *Taxonomy, ex Example, index map[string]int32, altMix float64) sample {
	s := sample{target: map[int]float64{tax.Index(ex.Label): 1}}
	if ex.Alt != "" && ex.Alt != ex.Label {
		s.target[tax.Index(ex.Label)] = 1 - altMix
		s.target[tax.Index(ex.Alt)] = altMix
	}
	seen := map[int32]bool{}
	for _, f := range extract(normalize(ex.Text)) {
		if j, ok := index[f.key]; ok && !seen[j] {
			seen[j] = true
			s.feats = append(s.feats, j)
		}
	}
	return s
}

// fitLR is multinomial logistic regression by AdaGrad on L2-normalised n-gram presence.
func fitLR(m *Model, samples []sample, opts TrainOptions) {
	nl := len(m.Labels)
	w := make([]float64, len(m.Weights))
	gw := make([]float64, len(m.Weights))
	b := make([]float64, nl)
	gb := make([]float64, nl)
	z := make([]float64, nl)
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6c78))
	for range opts.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, si := range order {
			s := samples[si]
			copy(z, b)
			for k, f := range s.feats {
				for c, v := range w[int(f)*nl:][:nl] {
					z[c] += s.vals[k] * v
				}
			}
			p := softmax(z)
			for c := range nl {
				g := p[c] - s.target[c]
				gb[c] += g * g
				b[c] -= opts.Rate * g / (math.Sqrt(gb[c]) + 1e-8)
				for fi, f := range s.feats {
					k := int(f)*nl + c
					gk := g*s.vals[fi] + opts.L2*w[k]
					gw[k] += gk * gk
					w[k] -= opts.Rate * gk / (math.Sqrt(gw[k]) + 1e-8)
				}
			}
		}
	}
	for i, v := range w {
		m.Weights[i] = float32(v)
	}
	for i, v := range b {
		m.Bias[i] = float32(v)
	}
}

// fitNB is multinomial naive Bayes over n-gram presence with add-one smoothing.
func fitNB(m *Model, samples []sample) {
	nl, nf := len(m.Labels), len(m.Features)
	counts := make([]float64, nf*nl)
	totals := make([]float64, nl)
	prior := make([]float64, nl)
	for _, s := range samples {
		for c, y := range s.target {
			prior[c] += y
			for _, f := range s.feats {
				counts[int(f)*nl+c] += y
				totals[c] += y
			}
		}
	}
	for c := range nl {
		m.Bias[c] = float32(math.Log((prior[c] + 1) / (float64(len(samples)) + float64(nl))))
		for f := range nf {
			m.Weights[f*nl+c] = float32(math.Log((counts[f*nl+c] + 1) / (totals[c] + float64(nf))))
		}
	}
}

// calibrate picks the temperature that minimises the log loss of cross-validated
// predictions, boosts included.
func calibrate(tax *Taxonomy, examples []Example, folds int, fitFold func([]Example) *Model) float64 {
	if folds < 2 || len(examples) < 2*folds {
		return 1
	}
	type held struct {
		raw   []float64 // model logits in taxonomy order
		boost []float64
		label int
	}
	var all []held
	crossValidate(tax, examples, folds, fitFold, func(c *Classifier, test []Example) {
		for _, ex := range test {
			raw := c.score(ex.Text, 1)
			boosted := c.score(ex.Text, math.Inf(1))
			if raw == nil {
				continue
			}
			// With an infinite temperature the model's logits vanish: what is left is boost.
			h := held{raw: raw.logits, boost: boosted.logits, label: tax.Index(ex.Label)}
			for i := range h.raw {
				h.raw[i] -= h.boost[i]
			}
			all = append(all, h)
		}
	})
	best, bestLoss := 1.0, math.Inf(1)
	for t := 0.1; t <= 8; t *= 1.05 {
		var loss float64
		z := make([]float64, len(tax.Departments))
		for _, h := range all {
			for i := range z {
				z[i] = h.raw[i]/t + h.boost[i]
			}
			loss -= math.Log(softmax(z)[h.label] + 1e-12)
		}
		if loss < bestLoss {
			best, bestLoss = t, loss
		}
	}
	return best
}

// crossValidate trains a classifier on all folds but one, folds times, and hands each to
// score with the examples it did not see.
func crossValidate(tax *Taxonomy, examples []Example, folds int, fitFold func([]Example) *Model, score func(*Classifier, []Example)) {
	for k := range folds {
		var train, test []Example
		for i, ex := range examples {
			if i%folds == k {
				test = append(test, ex)
			} else {
				train = append(train, ex)
			}
		}
		c, _ := New(tax, fitFold(train))
		score(c, test)
	}
}

// calibrateFinal picks the divisor of the boosted logits that minimises the log loss of
// cross-validated predictions. Unlike calibrate it leaves the balance between model and
// boosts, and so the ranking, alone.
func calibrateFinal(tax *Taxonomy, examples []Example, folds int, fitFold func([]Example) *Model) float64 {
	if folds < 2 || len(examples) < 2*folds {
		return 1
	}
	type held struct {
		logits []float64
		label  int
	}
	var all []held
	crossValidate(tax, examples, folds, fitFold, func(c *Classifier, test []Example) {
		for _, ex := range test {
			if s := c.score(ex.Text, 1); s != nil {
				all = append(all, held{logits: s.logits, label: tax.Index(ex.Label)})
			}
		}
	})
	best, bestLoss := 1.0, math.Inf(1)
	z := make([]float64, len(tax.Departments))
	for t := 0.2; t <= 8; t *= 1.05 {
		var loss float64
		for _, h := range all {
			for i, v := range h.logits {
				z[i] = v / t
			}
			loss -= math.Log(softmax(z)[h.label] + 1e-12)
		}
		if loss < bestLoss {
			best, bestLoss = t, loss
		}
	}
	return best
}
