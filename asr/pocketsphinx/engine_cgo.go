//go:build cgo && !nopocketsphinx

package pocketsphinx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"lianxin/asr"
	"lianxin/asr/internal/ngram"
)

// Engine is the embedded recogniser: a fixed pool of decoders, each owned by one worker
// goroutine for its whole life (pocketsphinx's LM is not thread-safe), serving one stream
// at a time.
type Engine struct {
	cfg     Config
	idle    chan *worker // workers free to take a stream
	workers []*worker
	m       *metrics
	quit    chan struct{} // closed by Close: streams in progress end

	mu     sync.Mutex
	closed bool
	once   sync.Once
	wg     sync.WaitGroup
}

// Available reports whether this build has the real recogniser (cgo and the C libraries).
func Available() bool { return true }

// New creates MaxStreams decoders (each ~0.3 s and ~100 MB) and their workers.
func New(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	for _, p := range []string{cfg.ModelDir, cfg.Dict, cfg.GeneralLM} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("pocketsphinx: model file missing (install pocketsphinx-en-us): %w: %w", err, asr.ErrUnavailable)
		}
	}
	dir, err := os.MkdirTemp("", "lianxin-lm-")
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	defer os.RemoveAll(dir) // every decoder has read its copy by the time New returns
	domain, general := "", cfg.GeneralLM
	weight := cfg.DomainWeight
	switch cfg.LM {
	case LMGeneral:
		weight = 0
	case LMDomain:
		weight, general = 1, ""
	}
	var vocab []string
	if weight > 0 {
		if domain, vocab, err = writeDomainLM(dir, cfg.DomainCorpus, cfg.CasesWeight, cfg.Hotwords); err != nil {
			return nil, err
		}
	}
	if err := checkHotwords(cfg, weight); err != nil {
		return nil, err
	}
	if cfg.Vocabulary > 0 {
		if cfg.Dict, err = smallDict(dir, cfg, general, vocab); err != nil {
			return nil, err
		}
	}
	e := &Engine{cfg: cfg, idle: make(chan *worker, cfg.MaxStreams), m: newMetrics(cfg.Registerer), quit: make(chan struct{})}
	for i := range cfg.MaxStreams {
		d, err := newDecoder(cfg.args(), general, domain, weight, !cfg.Verbose)
		if err != nil {
			e.Close()
			return nil, err
		}
		w := &worker{id: i, dec: d, cfg: cfg, m: e.m, jobs: make(chan *stream)}
		e.workers = append(e.workers, w)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.run(e.idle, e.quit)
		}()
		e.idle <- w
	}
	cfg.Logger.Info("pocketsphinx ready", "decoders", cfg.MaxStreams, "lm", lmName(cfg.LM, weight), "wide_beams", cfg.WideBeams)
	return e, nil
}

// smallDict writes a dictionary of the domain vocabulary and the general model's
// cfg.Vocabulary most probable words: the search's lexical tree shrinks from 134k words,
// which is most of its cost with narrow beams.
func smallDict(dir string, cfg Config, general string, domain []string) (string, error) {
	keep := map[string]bool{}
	for _, w := range domain {
		keep[w] = true
	}
	if general != "" {
		top, err := topUnigrams(general, cfg.Dict, cfg.Vocabulary)
		if err != nil {
			return "", err
		}
		for _, w := range top {
			keep[w] = true
		}
	}
	return writeDict(dir, cfg.Dict, keep)
}

// checkHotwords logs what of cfg.Hotwords cannot take effect: all of them without a domain
// model, and words the dictionary has no pronunciation for (the decoder cannot say them).
func checkHotwords(cfg Config, weight float64) error {
	if len(cfg.Hotwords) == 0 {
		return nil
	}
	if weight <= 0 {
		cfg.Logger.Warn("pocketsphinx: hotwords ignored: they bias the domain model, which is off", "hotwords", cfg.Hotwords)
		return nil
	}
	known, err := dictWords(cfg.Dict)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(known))
	for _, w := range known {
		have[w] = true
	}
	var missing []string
	for _, h := range cfg.Hotwords {
		for _, w := range strings.Fields(ngram.Words(h)) {
			if !have[w] && !slices.Contains(missing, w) {
				missing = append(missing, w)
			}
		}
	}
	if len(missing) > 0 {
		cfg.Logger.Warn("pocketsphinx: hotword words without a pronunciation in the dictionary cannot be recognised; add them to it",
			"words", missing, "dict", cfg.Dict)
	}
	return nil
}

// unknownHotwords are the phrases of want that have is missing (compared normalised).
func unknownHotwords(want, have []string) []string {
	var out []string
	for _, h := range want {
		if !slices.ContainsFunc(have, func(x string) bool { return ngram.Words(x) == ngram.Words(h) }) {
			out = append(out, h)
		}
	}
	return out
}

func lmName(m LMMode, w float64) string {
	switch m {
	case LMGeneral:
		return "general"
	case LMDomain:
		return "hotline"
	}
	return fmt.Sprintf("general+hotline(%.2f)", w)
}

// Name is "pocketsphinx".
func (e *Engine) Name() string { return Name }

// String describes the engine for logs.
func (e *Engine) String() string {
	return fmt.Sprintf("pocketsphinx(decoders=%d, band=%s)", e.cfg.MaxStreams, e.cfg.Band)
}

// NewStream takes a free decoder for one call leg, or fails with asr.ErrStreamLimit when
// all are busy. The stream ends when ctx is cancelled (no flush) or on Close (flush).
func (e *Engine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	if l := strings.ToLower(cfg.Language); l != "" && !strings.HasPrefix(l, "en") {
		return nil, fmt.Errorf("pocketsphinx: language %q not supported (US English model only)", cfg.Language)
	}
	if cfg.SampleRate != 0 && cfg.SampleRate != 8000 && cfg.SampleRate != 16000 {
		return nil, fmt.Errorf("pocketsphinx: sample rate %d Hz not supported (8000 or 16000)", cfg.SampleRate)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, fmt.Errorf("pocketsphinx: engine closed: %w", asr.ErrUnavailable)
	}
	var w *worker
	select {
	case w = <-e.idle:
	default:
		e.m.refused.Inc()
		return nil, fmt.Errorf("pocketsphinx: all %d decoders busy: %w", e.cfg.MaxStreams, asr.ErrStreamLimit)
	}
	if extra := unknownHotwords(cfg.Hotwords, e.cfg.Hotwords); len(extra) > 0 {
		e.cfg.Logger.Warn("pocketsphinx: stream hotwords not applied: the domain model is built once, with Config.Hotwords",
			"channel", cfg.Channel, "hotwords", extra)
	}
	s := newStream(ctx, cfg, e.cfg, e.m)
	w.jobs <- s // the worker is idle, so it is waiting on jobs
	return s, nil
}

// Close stops every stream (cancelling those in progress), waits for the workers and frees
// the decoders. It is idempotent.
func (e *Engine) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.quit)
		for _, w := range e.workers {
			close(w.jobs)
		}
		e.wg.Wait()
		for _, w := range e.workers {
			w.dec.free()
		}
	})
	return nil
}

// worker drives one decoder, one stream at a time.
type worker struct {
	id   int
	dec  *decoder
	cfg  Config
	m    *metrics
	jobs chan *stream
}

func (w *worker) run(idle chan<- *worker, quit <-chan struct{}) {
	for s := range w.jobs {
		w.m.active.Inc()
		err := w.serve(s, quit)
		w.m.active.Dec()
		if err != nil && !errors.Is(err, context.Canceled) {
			w.cfg.Logger.Warn("pocketsphinx stream failed", "decoder", w.id, "channel", s.scfg.Channel, "err", err)
		}
		// back in the pool before the stream's Close returns: whoever closed a stream to
		// free a decoder (a caller leg pre-empting an agent's) finds it free at once
		idle <- w
		s.finish(err)
	}
}

// EstimateCMN runs 16 kHz utterances through a fresh decoder (the model's start value, live
// CMN) and returns the cepstral mean it converged to: the way the telephone start value
// (Config.TelephoneCMN) was estimated, and how an operator can estimate one for their lines.
func EstimateCMN(cfg Config, utterances [][]int16) ([]float32, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d, err := newDecoder(cfg.args(), cfg.GeneralLM, "", 0, !cfg.Verbose)
	if err != nil {
		return nil, err
	}
	defer d.free()
	for _, u := range utterances {
		if err := d.start(); err != nil {
			return nil, err
		}
		for i := 0; i < len(u); i += 1600 {
			if _, err := d.process(u[i:min(i+1600, len(u))]); err != nil {
				return nil, err
			}
		}
		if _, _, err := d.end(); err != nil {
			return nil, err
		}
	}
	return d.cmn(), nil
}
