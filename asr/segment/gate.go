package segment

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/media"
)

// GateConfig tunes a Gate.
type GateConfig struct {
	VAD VADConfig `yaml:"vad"`
	// PreRoll is audio kept from before the detected start of speech (300 ms): the VAD
	// needs a few frames to be sure, and the first syllable must not be clipped.
	PreRoll time.Duration `yaml:"pre_roll"`
	// Trail is silence still passed on after speech ends (1.5 s), so that engines which
	// endpoint on their own silence detection still see enough to close the utterance.
	Trail time.Duration `yaml:"trail"`
}

func (c GateConfig) withDefaults() GateConfig {
	c.VAD = c.VAD.withDefaults()
	if c.PreRoll == 0 {
		c.PreRoll = 300 * time.Millisecond
	}
	if c.Trail == 0 {
		c.Trail = 1500 * time.Millisecond
	}
	return c
}

// Gate wraps an engine so that long silences never reach it. Results carry times on the
// original stream's clock even though the engine heard a shortened stream.
type Gate struct {
	inner asr.Engine
	cfg   GateConfig
}

// NewGate returns the gated engine.
func NewGate(inner asr.Engine, cfg GateConfig) *Gate {
	return &Gate{inner: inner, cfg: cfg.withDefaults()}
}

// Name is the inner engine's name: gating does not change what recognises.
func (g *Gate) Name() string { return g.inner.Name() }

// String describes the chain.
func (g *Gate) String() string { return fmt.Sprintf("Gate(%s)", g.inner.Name()) }

// Close closes the inner engine.
func (g *Gate) Close() error { return g.inner.Close() }

// NewStream opens an inner stream behind the gate.
func (g *Gate) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	in, err := g.inner.NewStream(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &gateStream{cfg: g.cfg, inner: in, vad: NewVAD(g.cfg.VAD), out: make(chan asr.Result, 16), done: make(chan struct{})}
	go s.forward()
	return s, nil
}

type gateStream struct {
	cfg   GateConfig
	inner asr.Stream
	vad   *VAD
	out   chan asr.Result
	done  chan struct{}

	wmu     sync.Mutex // serialises Write: the VAD and pre-roll are not concurrent
	preroll []media.Frame
	open    bool // passing audio through

	tmu sync.Mutex
	tl  pcm.Timeline

	dropped atomic.Int64
	once    sync.Once
}

// Dropped is the number of silent frames the gate kept from the engine.
func (s *gateStream) Dropped() int64 { return s.dropped.Load() }

// Results are the engine's, on the call's clock.
func (s *gateStream) Results() <-chan asr.Result { return s.out }

// Write passes speech (with pre-roll and trail) to the engine and keeps silence away.
func (s *gateStream) Write(f media.Frame) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tr := s.vad.Process(f)
	end := f.Offset + f.Duration()
	switch {
	case tr == SpeechStart || s.vad.InSpeech():
		s.open = true
		for _, p := range s.preroll {
			if err := s.pass(p); err != nil {
				return err
			}
		}
		s.preroll = s.preroll[:0]
		return s.pass(f)
	case s.open && end-s.vad.SpeechEnd() <= s.cfg.Trail:
		return s.pass(f)
	}
	s.open = false
	f.Samples = append([]int16(nil), f.Samples...) // frame buffers are lent: keep a copy
	s.preroll = append(s.preroll, f)
	for len(s.preroll) > 0 && end-s.preroll[0].Offset > s.cfg.PreRoll {
		s.preroll = s.preroll[1:]
		s.dropped.Add(1)
	}
	return nil
}

func (s *gateStream) pass(f media.Frame) error {
	s.tmu.Lock()
	inner := s.tl.End()
	s.tl.Append(f.Offset, f.Duration())
	s.tmu.Unlock()
	f.Offset = inner
	return s.inner.Write(f)
}

func (s *gateStream) forward() {
	defer close(s.done)
	defer close(s.out)
	for r := range s.inner.Results() {
		s.tmu.Lock()
		r.Start, r.End = s.tl.Map(r.Start), s.tl.Map(r.End)
		for i := range r.Words {
			r.Words[i].Start, r.Words[i].End = s.tl.Map(r.Words[i].Start), s.tl.Map(r.Words[i].End)
		}
		s.tmu.Unlock()
		s.out <- r
	}
}

// Close flushes the engine.
func (s *gateStream) Close() error {
	var err error
	s.once.Do(func() {
		s.wmu.Lock()
		// a short tail still in the pre-roll may hold the start of speech the VAD had not
		// confirmed yet: give it to the engine rather than lose it
		if !s.open {
			for _, p := range s.preroll {
				if e := s.pass(p); e != nil {
					break
				}
			}
			s.preroll = nil
		}
		s.wmu.Unlock()
		err = s.inner.Close()
		<-s.done
	})
	return err
}
