package resilient

import (
	"context"
	"errors"
	"time"

	"lianxin/asr"
)

// connect opens a connection and replays the audio no final covers yet.
func (s *stream) connect() error {
	ctx, cancel := context.WithCancelCause(s.ctx)
	in, err := s.e.inner.NewStream(ctx, s.cfg)
	if err != nil {
		cancel(err)
		return err
	}
	// audio that fell out of the ring while no connection could take it is lost for good
	if s.lost > s.covered {
		s.gap(s.lost)
	}
	s.conn = &conn{s: in, cancel: cancel, ids: map[int]int{}, reuse: s.pending}
	var replayed int64
	for _, h := range s.ring {
		if h.f.Offset+h.f.Duration() <= s.covered {
			continue
		}
		if err := s.send(h.f); err != nil {
			s.drop(err)
			return err
		}
		replayed += int64(h.f.Duration())
	}
	s.replayed.Add(replayed)
	s.e.m.replayed.Add(float64(replayed) / 1e9)
	return nil
}

// reconnect is a retry after a failure.
func (s *stream) reconnect() {
	if err := s.connect(); err != nil {
		s.failed(err)
		return
	}
	s.reconnects.Add(1)
	s.e.m.reconnects.Inc()
	s.log.Info("engine reconnected", "replay_from", s.covered, "to", s.written)
}

// failed handles a broken connection (or a failed attempt): count, drop, schedule a retry.
// Audio that fell out of the ring meanwhile is marked as a gap at once, so the transcript
// shows the outage while it lasts; what the ring still holds waits for the next connection.
func (s *stream) failed(err error) {
	if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
		return
	}
	s.setErr(err)
	s.e.m.errors.Inc()
	s.log.Warn("engine connection failed", "attempt", s.failures+1, "err", err)
	s.takeQueued()
	if s.conn != nil {
		s.drop(err)
	}
	s.failures++
	// a long outage shows in the transcript while it lasts (in pieces of at least a second,
	// not one per retry); the reconnect marks the rest
	if s.lost-s.covered >= time.Second {
		s.gap(s.lost)
	}
	s.retry = s.e.cfg.Clock.After(s.e.cfg.Backoff.Delay(min(s.failures, 30), s.e.cfg.Rand()))
}

// takeQueued handles what the broken connection delivered before it broke and is still
// waiting to be read: the run loop picks among ready channels at random, so a final the
// engine sent just before failing may not have been taken yet, and dropping the connection
// would discard it (a gap, once its audio has left the ring).
func (s *stream) takeQueued() {
	for s.conn != nil {
		select {
		case r, ok := <-s.conn.s.Results():
			if !ok {
				return
			}
			s.handle(r)
		default:
			return
		}
	}
}

// drop abandons the current connection. Closing it may take a moment (an engine library
// waiting for its socket), so it happens on a goroutine the stream waits for.
func (s *stream) drop(cause error) {
	c := s.conn
	s.conn = nil
	c.cancel(cause)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		for range c.s.Results() {
		}
	}()
	go func() {
		defer s.wg.Done()
		_ = c.s.Close()
	}()
}

// rotate replaces a healthy connection before the engine's session limit. Abandoning it
// mid-utterance is safe: what no final covered is replayed to the new one.
func (s *stream) rotate() {
	s.drop(errRotate)
	s.rotations.Add(1)
	s.e.m.rotations.Inc()
	if err := s.connect(); err != nil {
		s.failed(err)
	}
}

// finish is Close's work on the loop: flush the engine, recovering as during the call,
// then close any utterance left open.
func (s *stream) finish() {
	for attempts := 0; s.ctx.Err() == nil; {
		if s.conn == nil {
			if s.written <= s.covered {
				break
			}
			if attempts >= s.e.cfg.Attempts {
				s.gap(s.written) // the engine did not come back: say so, and end
				break
			}
			attempts++
			if s.retry == nil {
				s.retry = s.e.cfg.Clock.After(0)
			}
			select {
			case <-s.retry:
				s.retry = nil
				s.reconnect()
			case <-s.ctx.Done():
				return
			}
			continue
		}
		err := s.flush()
		if err == nil {
			break
		}
		s.failed(err)
	}
	if s.pending >= 0 {
		// the engine showed words and never finalised them: keep what it showed
		s.emit(asr.Result{UtteranceID: s.pending, Text: s.pendingText, Final: true, Start: s.pendingFrom, End: s.written, Confidence: -1, Language: s.cfg.Language})
		s.pending = -1
	}
}

// flush closes the connection gracefully, passing on its last results.
func (s *stream) flush() error {
	c := s.conn
	s.flushing = true
	defer func() { s.flushing = false }()
	errc := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		errc <- c.s.Close()
	}()
	for r := range c.s.Results() {
		s.handle(r)
	}
	err := <-errc
	if err == nil {
		if e, ok := c.s.(interface{ Err() error }); ok {
			err = e.Err()
		}
	}
	if err != nil {
		// failed() drops s.conn; Close has already run, so only cancel it
		c.cancel(err)
		s.conn = nil
		return err
	}
	s.conn = nil
	c.cancel(nil)
	s.cover(s.written)
	return nil
}
