package resilient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/media"
)

var (
	errEnded  = errors.New("engine ended the stream unasked")
	errRotate = errors.New("rotating before the engine's session limit")
)

// Stats are a stream's resilience counters.
type Stats struct {
	Reconnects, Rotations, Dropped, Gaps int64
	// Queued is how many frames wait for the engine now.
	Queued   int
	Replayed time.Duration
}

type held struct {
	f  media.Frame // Offset on the stream's own clock
	at time.Time   // arrival, for the lag metric
}

type conn struct {
	s      asr.Stream
	cancel context.CancelCauseFunc
	tl     pcm.Timeline
	ids    map[int]int // engine utterance id → stream utterance id
	reuse  int         // stream id to give the first new utterance (-1 none)
	rotate bool        // rotate at the next final
}

type stream struct {
	e      *Engine
	cfg    asr.StreamConfig
	ctx    context.Context
	cancel context.CancelCauseFunc
	log    *slog.Logger
	in     chan media.Frame
	out    chan asr.Result
	wg     sync.WaitGroup // the loop and the goroutines closing old connections
	done   chan struct{}  // the loop has ended

	mu     sync.Mutex // guards closed against Write
	closed bool
	once   sync.Once

	reconnects, rotations, dropped, gaps, replayed atomic.Int64
	errMu                                          sync.Mutex
	err                                            error

	// owned by the loop
	conn        *conn
	ring        []held
	ringDur     time.Duration
	covered     time.Duration // stream time up to which finals (or gaps) account for the audio
	lost        time.Duration // stream time up to which uncovered audio fell out of the ring
	written     time.Duration // end of the last frame taken from the queue
	nextID      int
	pending     int // stream utterance with partials and no final yet (-1 none)
	pendingText string
	pendingFrom time.Duration
	failures    int
	retry       <-chan time.Time
	flushing    bool
}

func newStream(ctx context.Context, e *Engine, cfg asr.StreamConfig) *stream {
	ctx, cancel := context.WithCancelCause(ctx)
	return &stream{
		e: e, cfg: cfg, ctx: ctx, cancel: cancel,
		log: e.cfg.Logger.With("engine", e.inner.Name(), "channel", cfg.Channel),
		in:  make(chan media.Frame, e.cfg.Queue), out: make(chan asr.Result, 64),
		done: make(chan struct{}), pending: -1,
	}
}

// Results delivers rebased results; it closes after Close or a cancelled context.
func (s *stream) Results() <-chan asr.Result { return s.out }

// Stats returns the stream's counters.
func (s *stream) Stats() Stats {
	return Stats{
		Reconnects: s.reconnects.Load(), Rotations: s.rotations.Load(), Dropped: s.dropped.Load(),
		Gaps: s.gaps.Load(), Replayed: time.Duration(s.replayed.Load()), Queued: len(s.in),
	}
}

// Err is the last engine error the stream met (recovered or not).
func (s *stream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Write queues a frame; it never waits for the engine. A full queue drops the frame and
// counts it.
func (s *stream) Write(f media.Frame) error {
	// the caller may reuse its buffer (an RTP decoder does) once Write returns
	f.Samples = append([]int16(nil), f.Samples...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.ctx.Err() != nil {
		return fmt.Errorf("resilient: %w", context.Cause(s.ctx))
	}
	select {
	case s.in <- f:
	default:
		s.dropped.Add(1)
		s.e.m.dropped.Inc()
	}
	return nil
}

// Close flushes: queued audio reaches the engine, the engine's last final is delivered
// (reconnecting and replaying if the connection fails while flushing), then Results closes.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.in)
		s.mu.Unlock()
	})
	s.wg.Wait()
	s.cancel(ErrClosed)
	return nil
}

func (s *stream) run() {
	defer s.wg.Done()
	defer close(s.out)
	for {
		var results <-chan asr.Result
		if s.conn != nil {
			results = s.conn.s.Results()
		}
		select {
		case f, ok := <-s.in:
			if !ok {
				s.finish()
				return
			}
			s.push(f)
		case r, ok := <-results:
			if !ok {
				s.failed(s.connErr(errEnded))
				continue
			}
			s.handle(r)
		case <-s.retry:
			s.retry = nil
			s.reconnect()
		case <-s.ctx.Done():
			if s.conn != nil {
				s.drop(context.Cause(s.ctx))
			}
			return
		}
	}
}

// push takes a frame from the queue into the ring and on to the engine.
func (s *stream) push(f media.Frame) {
	s.written = f.Offset + f.Duration()
	s.ring = append(s.ring, held{f: f, at: s.e.cfg.Clock.Now()})
	s.ringDur += f.Duration()
	for s.ringDur > s.e.cfg.Ring {
		h := s.ring[0]
		s.ring[0] = held{}
		s.ring = s.ring[1:]
		s.ringDur -= h.f.Duration()
		if end := h.f.Offset + h.f.Duration(); end > s.covered {
			s.lost = max(s.lost, end)
		}
	}
	if s.conn == nil {
		return
	}
	if err := s.send(f); err != nil {
		s.failed(err)
		return
	}
	if lim := s.e.cfg.MaxSession; lim > 0 {
		sent := s.conn.tl.End()
		if sent >= lim-5*time.Second {
			s.rotate()
		} else if sent >= lim-s.e.cfg.RotateEarly {
			s.conn.rotate = true
		}
	}
}

// send writes a frame to the engine with the position the engine will count it at.
func (s *stream) send(f media.Frame) error {
	c := s.conn
	inner := c.tl.End()
	c.tl.Append(f.Offset, f.Duration())
	f.Offset = inner
	return c.s.Write(f)
}

// handle rebases an engine result onto the stream and passes it on.
func (s *stream) handle(r asr.Result) {
	c := s.conn
	if r.Final && r.End <= 0 {
		r.End = c.tl.End() // an engine without times: assume it covers all it heard
	}
	r.Start, r.End = c.tl.Map(r.Start), c.tl.Map(r.End)
	for i := range r.Words {
		r.Words[i].Start, r.Words[i].End = c.tl.Map(r.Words[i].Start), c.tl.Map(r.Words[i].End)
	}
	id, ok := c.ids[r.UtteranceID]
	if !ok {
		if c.reuse >= 0 {
			id, c.reuse = c.reuse, -1
		} else {
			id = s.nextID
			s.nextID++
		}
		c.ids[r.UtteranceID] = id
	}
	r.UtteranceID = id
	if !r.Final {
		if s.pending != id {
			s.pendingFrom = r.Start
		}
		s.pending, s.pendingText = id, r.Text
		s.emit(r)
		return
	}
	if s.pending == id {
		s.pending = -1
	}
	s.failures = 0
	s.observeLag(r.End)
	s.cover(r.End)
	s.emit(r)
	if c.rotate && !s.flushing {
		s.rotate()
	}
}

func (s *stream) observeLag(end time.Duration) {
	for _, h := range s.ring {
		if h.f.Offset+h.f.Duration() >= end {
			s.e.m.lag.Observe(s.e.cfg.Clock.Now().Sub(h.at).Seconds())
			return
		}
	}
}

// cover records that the audio up to end is accounted for and lets the ring forget it.
func (s *stream) cover(end time.Duration) {
	s.covered = max(s.covered, end)
	n := 0
	for n < len(s.ring) && s.ring[n].f.Offset+s.ring[n].f.Duration() <= s.covered {
		s.ringDur -= s.ring[n].f.Duration()
		s.ring[n] = held{}
		n++
	}
	s.ring = s.ring[n:]
}

func (s *stream) emit(r asr.Result) {
	select {
	case s.out <- r:
	case <-s.ctx.Done():
	}
}

// gap marks [s.covered, end) as lost, closing the utterance in progress if there is one.
func (s *stream) gap(end time.Duration) {
	if end <= s.covered {
		return
	}
	id := s.pending
	if id < 0 {
		id = s.nextID
		s.nextID++
	}
	s.pending = -1
	s.gaps.Add(1)
	s.e.m.gaps.Inc()
	s.e.m.gapSeconds.Add((end - s.covered).Seconds())
	s.log.Warn("transcription gap", "from", s.covered, "to", end)
	s.emit(asr.Result{UtteranceID: id, Text: GapText, Final: true, Start: s.covered, End: end, Confidence: -1, Gap: true, Language: s.cfg.Language})
	s.cover(end)
}

func (s *stream) setErr(err error) {
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
}

// connErr is the reason the current connection ended, as best the engine tells it.
func (s *stream) connErr(fallback error) error {
	if e, ok := s.conn.s.(interface{ Err() error }); ok && e.Err() != nil {
		return e.Err()
	}
	return fallback
}
