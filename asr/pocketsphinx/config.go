// Package pocketsphinx is the embedded, offline speech recogniser: CMU pocketsphinx
// (Debian's 0.8+5prealpha, US English wideband model) through cgo, with a hotline domain
// language model interpolated with the general one. Built without cgo, or with the
// nopocketsphinx tag, the engine exists but every NewStream fails with asr.ErrUnavailable.
package pocketsphinx

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Name is the engine's registry name; "embedded" is accepted as an alias by callers.
const Name = "pocketsphinx"

// Defaults for Debian's pocketsphinx-en-us package.
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict     = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	DefaultLM       = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
)

// Band chooses the acoustic front-end settings of a stream.
type Band int

const (
	// BandAuto picks by the rate of the frames written: 8 kHz is telephone, else wideband.
	BandAuto Band = iota
	// BandTelephone is narrowband speech (possibly already upsampled to 16 kHz): the
	// telephone cepstral-mean start value is used.
	BandTelephone
	// BandWideband is 16 kHz speech: the model's own cepstral-mean start value.
	BandWideband
)

func (b Band) String() string {
	switch b {
	case BandTelephone:
		return "telephone"
	case BandWideband:
		return "wideband"
	}
	return "auto"
}

// LMMode chooses the language model.
type LMMode int

const (
	// LMMixed interpolates the general model with the built-in hotline model (default).
	LMMixed LMMode = iota
	// LMGeneral uses the general model only.
	LMGeneral
	// LMDomain uses the built-in hotline model only (small vocabulary, fast, brittle).
	LMDomain
)

// defaultTelephoneCMN is the cepstral-mean start value for telephone-band speech, and
// defaultWidebandCMN the one for 16 kHz speech, estimated by cmd/cmnest/estimate.sh on this
// project's own synthetic speech (81 domain-corpus sentences, flite and espeak-ng voices;
// never the test sentences). They replace the model's -cmninit (41.00,-5.29,…), which sits
// far from both: 67.6% → 40.5% WER on telephone band, 27.5% → 16% wideband (testdata/asr).
// Real callers differ from synthetic voices; live CMN adapts from here, and an operator can
// re-estimate with cmnest on recordings of their own lines.
func defaultTelephoneCMN() []float32 {
	return []float32{49.39, 31.58, -33.40, 53.90, -19.55, -2.38, 10.13, -35.30, 14.16, -13.31, 1.46, 10.17, -13.29}
}

func defaultWidebandCMN() []float32 {
	return []float32{56.48, 5.05, 1.98, 28.40, -7.17, -0.83, -4.63, -17.47, 1.56, -11.14, 9.32, -2.77, 0.03}
}

// Config configures the engine. The zero value is usable: Debian's model, narrow beams,
// the interpolated hotline LM, 4 decoders.
type Config struct {
	ModelDir  string // acoustic model directory (-hmm); default DefaultModelDir
	Dict      string // pronunciation dictionary; default DefaultDict
	GeneralLM string // general n-gram model (ARPA, DMP or bin); default DefaultLM
	LM        LMMode
	// DomainWeight is the hotline model's share in the interpolation; 0 means the default
	// (0.5, measured on testdata/asr; see docs/asr.md).
	DomainWeight float64
	// DomainCorpus replaces the built-in hotline corpus (same "{a|b}" format).
	DomainCorpus string
	// Hotwords are phrases (place, department and programme names) the domain model is
	// biased towards, fixed when the engine starts: every stream gets them. Their words
	// must be in the dictionary; New reports those that are not.
	Hotwords []string
	// CasesWeight is how many times each built-in case sentence counts against the
	// templates in the domain model; 0 means the default, negative leaves the cases out.
	CasesWeight int
	// Vocabulary is how many of the general model's words (most probable first) the
	// dictionary keeps besides the domain vocabulary; default 20000, negative keeps all 134k.
	Vocabulary int
	// MaxStreams is the number of decoders, created once and reused; default 4.
	// Each costs ~100 MB; NewStream fails with asr.ErrStreamLimit when all are busy.
	MaxStreams int
	// Band forces telephone or wideband settings for every stream; default BandAuto.
	Band Band
	// TelephoneCMN overrides the telephone cepstral-mean start value (13 values).
	TelephoneCMN []float32
	// WidebandCMN overrides the wideband start value (13 values).
	WidebandCMN []float32
	// WideBeams uses pocketsphinx's default search (fwdflat, bestpath, wide beams): a few
	// points more accurate on clean speech, 2–3× the CPU and multi-second endpoint spikes.
	WideBeams bool
	// SecondPass adds pocketsphinx's flat-lexicon second pass (-fwdflat yes) at each
	// endpoint: ~3 points better WER on testdata/asr, but more CPU and an endpoint delay that
	// grows with the utterance. For files and recordings, not for live calls.
	SecondPass bool
	// PostSpeech is the silence that ends an utterance (default 500 ms, multiple of 10 ms).
	PostSpeech time.Duration
	// PartialInterval is how much audio passes between partial hypotheses (default 300 ms).
	PartialInterval time.Duration
	// QueueFrames bounds each stream's queue between Write and its decoder (default 500
	// frames, 10 s of 20 ms frames); beyond it Write drops frames and counts them.
	QueueFrames int
	// Extra are further pocketsphinx flags, "-name", "value" pairs (for tuning).
	Extra []string
	// Verbose lets pocketsphinx log to stderr (it is silenced by default).
	Verbose bool
	Logger  *slog.Logger
	// Registerer receives the engine's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	if c.Dict == "" {
		c.Dict = DefaultDict
	}
	if c.GeneralLM == "" {
		c.GeneralLM = DefaultLM
	}
	if c.DomainWeight <= 0 || c.DomainWeight >= 1 {
		c.DomainWeight = 0.5
	}
	if c.CasesWeight == 0 {
		c.CasesWeight = 5
	}
	if c.Vocabulary == 0 {
		c.Vocabulary = 20000
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 4
	}
	if len(c.TelephoneCMN) == 0 {
		c.TelephoneCMN = defaultTelephoneCMN()
	}
	if len(c.WidebandCMN) == 0 {
		c.WidebandCMN = defaultWidebandCMN()
	}
	if c.PostSpeech <= 0 {
		c.PostSpeech = 500 * time.Millisecond
	}
	if c.PartialInterval <= 0 {
		c.PartialInterval = 300 * time.Millisecond
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = 500
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// args is the pocketsphinx command line for one decoder.
func (c Config) args() []string {
	a := []string{
		"-hmm", c.ModelDir,
		"-dict", c.Dict,
		"-samprate", "16000",
		// endpointing by ps_get_in_speech; values measured here (ASR-LOCAL.md)
		"-vad_prespeech", "20",
		"-vad_startspeech", "10",
		"-vad_postspeech", fmt.Sprint(int(c.PostSpeech / (10 * time.Millisecond))),
		"-vad_threshold", "2.0",
	}
	if !c.WideBeams {
		// the word lattice (-bestpath) gives the confidences, and on the live closed-vocabulary
		// model it cut the dev set's telephone-band WER from 51.7% to 43.1% at no latency cost
		a = append(a, "-fwdflat", map[bool]string{true: "yes", false: "no"}[c.SecondPass], "-bestpath", "yes", "-maxhmmpf", "3000", "-maxwpf", "5")
	}
	if !c.Verbose {
		a = append(a, "-logfn", "/dev/null")
	}
	return append(a, c.Extra...)
}

func (c Config) validate() error {
	if len(c.Extra)%2 != 0 {
		return fmt.Errorf("pocketsphinx: Extra must be flag/value pairs, got %q", c.Extra)
	}
	for i := 0; i < len(c.Extra); i += 2 {
		if !strings.HasPrefix(c.Extra[i], "-") {
			return fmt.Errorf("pocketsphinx: Extra flag %q must start with '-'", c.Extra[i])
		}
	}
	return nil
}
