package resilient_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"lianxin/asr"
	"lianxin/asr/asrtest/tone"
	"lianxin/media"
)

// toneEngine is an in-process stand-in engine for the wrapper's unit tests: it decodes tone
// words (package tone) and can be made to fail. The real adapters run the same checks
// against their protocol stand-ins over WebSocket.
type toneEngine struct {
	mu       sync.Mutex
	live     map[*toneStream]bool
	refuse   int           // refuse this many NewStream calls
	down     atomic.Bool   // refuse every NewStream call
	dieAfter []int         // per connection: fail after this many frames (0: never)
	block    chan struct{} // when set, Write waits on it (a stuck engine)
	opened   int
}

func newToneEngine() *toneEngine { return &toneEngine{live: map[*toneStream]bool{}} }

func (e *toneEngine) Name() string { return "tones" }
func (e *toneEngine) Close() error { return nil }

func (e *toneEngine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down.Load() {
		return nil, errors.New("connection refused (down)")
	}
	if e.refuse > 0 {
		e.refuse--
		return nil, errors.New("connection refused")
	}
	s := &toneStream{e: e, ctx: ctx, out: make(chan asr.Result, 1024), partials: cfg.Partials}
	if e.opened < len(e.dieAfter) {
		s.dieAfter = e.dieAfter[e.opened]
	}
	e.opened++
	e.live[s] = true
	return s, nil
}

// Kill fails every live stream, as a dropped connection would.
func (e *toneEngine) Kill() {
	e.mu.Lock()
	live := make([]*toneStream, 0, len(e.live))
	for s := range e.live {
		live = append(live, s)
	}
	e.mu.Unlock()
	for _, s := range live {
		s.fail(errors.New("connection reset by peer"))
	}
}

type toneStream struct {
	e        *toneEngine
	ctx      context.Context
	partials bool
	dieAfter int

	mu     sync.Mutex
	dec    *tone.Decoder
	out    chan asr.Result
	id     int
	frames int
	err    error
	ended  bool
}

func (s *toneStream) Results() <-chan asr.Result { return s.out }

func (s *toneStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *toneStream) Write(f media.Frame) error {
	if b := s.e.block; b != nil {
		<-b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return errors.New("write on a dead connection")
	}
	if s.dec == nil {
		s.dec = tone.NewDecoder(f.Rate)
	}
	s.frames++
	if s.dieAfter > 0 && s.frames > s.dieAfter {
		s.endLocked(errors.New("connection reset by peer"))
		return s.err
	}
	s.emitLocked(s.dec.Feed(f.Samples))
	return nil
}

func (s *toneStream) emitLocked(evs []tone.Event) {
	for _, e := range evs {
		if !e.Final && !s.partials {
			continue
		}
		r := asr.Result{UtteranceID: s.id, Text: e.Text(), Final: e.Final, Confidence: -1,
			Start: e.Words[0].Start, End: e.Words[len(e.Words)-1].End}
		for _, w := range e.Words {
			r.Words = append(r.Words, asr.Word{Text: w.Text, Start: w.Start, End: w.End, Confidence: -1})
		}
		if e.Final {
			s.id++
		}
		select {
		case s.out <- r:
		case <-s.ctx.Done():
		}
	}
}

func (s *toneStream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked(err)
}

func (s *toneStream) endLocked(err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	close(s.out)
	s.e.mu.Lock()
	delete(s.e.live, s)
	s.e.mu.Unlock()
}

func (s *toneStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return s.err
	}
	if s.dec != nil && s.ctx.Err() == nil {
		s.emitLocked(s.dec.Flush())
	}
	s.endLocked(nil)
	return nil
}
