package wsengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/internal/resample"
	"lianxin/media"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("wsengine: stream closed")

// errFlushTimeout says the server never finished the flush.
var errFlushTimeout = errors.New("no end of results after the end-of-stream message (flush timeout)")

// Conn is what a Protocol sees of the connection.
type Conn struct {
	s   *stream
	ws  *websocket.Conn
	wmu sync.Mutex
	// Rate is the sample rate audio is sent at.
	Rate int
	// Config is the stream's configuration.
	Config asr.StreamConfig
	sent   atomic.Int64 // samples sent
	// collect replaces delivery for a Detached Conn
	collect func(asr.Result)
}

// Detached returns a Conn with no connection behind it, for unit tests and fuzz targets of
// a Protocol's Handle: writes fail, and results go to collect.
func Detached(cfg asr.StreamConfig, rate int, collect func(asr.Result)) *Conn {
	return &Conn{Rate: rate, Config: cfg, collect: collect}
}

// Sent is how much audio has been sent, on the engine's clock.
func (c *Conn) Sent() time.Duration { return pcm.Duration(int(c.sent.Load()), c.Rate) }

// Text sends a text message.
func (c *Conn) Text(s string) error { return c.write(websocket.TextMessage, []byte(s)) }

// JSON sends v as a text message.
func (c *Conn) JSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(websocket.TextMessage, b)
}

// Binary sends a binary message.
func (c *Conn) Binary(b []byte) error { return c.write(websocket.BinaryMessage, b) }

func (c *Conn) write(typ int, b []byte) error {
	if c.ws == nil {
		return errors.New("wsengine: detached connection")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.e.o.WriteTimeout))
	return c.ws.WriteMessage(typ, b)
}

// Read reads one message; only Start may call it (before the reading goroutine runs).
func (c *Conn) Read() (int, []byte, error) {
	if c.ws == nil {
		return 0, nil, errors.New("wsengine: detached connection")
	}
	return c.ws.ReadMessage()
}

// Emit delivers a result. Times are on the engine's clock (0 = the first sample sent);
// the stream moves them onto its own.
func (c *Conn) Emit(r asr.Result) {
	if c.collect != nil {
		c.collect(r)
		return
	}
	b := c.s.base
	r.Start += b
	r.End += b
	for i := range r.Words {
		r.Words[i].Start += b
		r.Words[i].End += b
	}
	if r.Language == "" {
		r.Language = c.Config.Language
	}
	select {
	case c.s.out <- r:
	case <-c.s.ctx.Done():
	}
}

type stream struct {
	e      *Engine
	p      Protocol
	conn   *Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
	out    chan asr.Result
	done   chan struct{} // the reader has exited
	flushd chan struct{} // Handle reported done
	stop   func() bool

	mu      sync.Mutex // Write state
	rs      *resample.Resampler
	rate    int
	base    time.Duration
	started bool
	closed  bool
	owed    atomic.Bool // audio sent that awaits an answer (ReplyTimeout)

	errMu sync.Mutex
	err   error
	once  sync.Once
}

func newStream(ctx context.Context, e *Engine, cfg asr.StreamConfig, p Protocol, ws *websocket.Conn) *stream {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &stream{e: e, p: p, ctx: ctx, cancel: cancel, out: make(chan asr.Result, 64),
		done: make(chan struct{}), flushd: make(chan struct{})}
	s.conn = &Conn{s: s, ws: ws, Rate: e.o.Rate, Config: cfg}
	if s.conn.Rate == 0 {
		s.conn.Rate = cfg.SampleRate
	}
	return s
}

func (s *stream) start() {
	// the context ends the connection, whoever cancels it; that unblocks the reader
	s.stop = context.AfterFunc(s.ctx, func() { s.conn.ws.Close() })
	go s.read()
}

// Results closes after Close or a failure.
func (s *stream) Results() <-chan asr.Result { return s.out }

// Err is why the stream failed, nil while it is healthy or after a clean flush.
func (s *stream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// fail records the first error and ends the stream.
func (s *stream) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%s: %w", s.e.o.Name, err)
	}
	err = s.err
	s.errMu.Unlock()
	s.cancel(err)
}

// Write resamples and sends a frame; a send failure fails the stream.
func (s *stream) Write(f media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.ctx.Err(); err != nil {
		if e := s.Err(); e != nil {
			return e
		}
		return fmt.Errorf("%s: %w", s.e.o.Name, context.Cause(s.ctx))
	}
	if !s.started {
		s.started, s.base, s.rate = true, f.Offset, f.Rate
		if s.conn.Rate > 0 && f.Rate != s.conn.Rate {
			rs, err := resample.New(f.Rate, s.conn.Rate)
			if err != nil {
				return fmt.Errorf("%s: %w", s.e.o.Name, err)
			}
			s.rs = rs
		}
	}
	if f.Rate != s.rate {
		return fmt.Errorf("%s: frame at %d Hz in a %d Hz stream", s.e.o.Name, f.Rate, s.rate)
	}
	samples := f.Samples
	if s.rs != nil {
		samples = s.rs.Process(samples)
	}
	if len(samples) == 0 {
		return nil
	}
	return s.send(samples)
}

func (s *stream) send(samples []int16) error {
	if err := s.p.Audio(s.conn, samples); err != nil {
		s.fail(fmt.Errorf("send audio: %w", err))
		return s.Err()
	}
	s.conn.sent.Add(int64(len(samples)))
	if t := s.e.o.ReplyTimeout; t > 0 && !s.owed.Swap(true) {
		_ = s.conn.ws.SetReadDeadline(time.Now().Add(t))
	}
	return nil
}

func (s *stream) read() {
	defer close(s.done)
	defer close(s.out)
	defer func() {
		if s.e.slots != nil {
			<-s.e.slots
		}
	}()
	finished := false
	for {
		typ, msg, err := s.conn.ws.ReadMessage()
		if err != nil {
			if finished || s.closedAsEnd(err) {
				return
			}
			s.readFailed(err)
			return
		}
		if s.e.o.ReplyTimeout > 0 && s.owed.Swap(false) {
			_ = s.conn.ws.SetReadDeadline(time.Time{})
		}
		done, err := s.p.Handle(s.conn, typ, msg)
		if err != nil {
			s.fail(fmt.Errorf("bad message from server: %w", err))
			return
		}
		if done && !finished {
			finished = true
			close(s.flushd)
		}
	}
}

// closedAsEnd asks a Closer protocol whether the server's close ended the flush.
func (s *stream) closedAsEnd(err error) bool {
	var ce *websocket.CloseError
	cl, ok := s.p.(Closer)
	if !ok || !errors.As(err, &ce) || !cl.Closed(s.conn, ce.Code) {
		return false
	}
	close(s.flushd)
	return true
}

// readFailed classifies a read error: our own teardown, or a failure. A server that closes
// before the protocol reported the flush done has closed early, however politely.
func (s *stream) readFailed(err error) {
	var ce *websocket.CloseError
	switch {
	case s.ctx.Err() != nil && s.Err() == nil && s.closedByUs():
		// our own teardown
	case errors.As(err, &ce):
		s.fail(fmt.Errorf("server closed the connection early (%d %s)", ce.Code, ce.Text))
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.fail(fmt.Errorf("no reply from the server within %v", s.e.o.ReplyTimeout))
	case s.ctx.Err() != nil:
		if s.Err() == nil {
			s.fail(context.Cause(s.ctx))
		}
	default:
		s.fail(fmt.Errorf("connection lost: %w", err))
	}
}

func (s *stream) closedByUs() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close flushes: the end-of-stream message, then results until the server says it is done
// (or FlushTimeout), then the connection closes and Results with it.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		var tail []int16
		if s.rs != nil {
			tail = s.rs.Flush()
		}
		healthy := s.ctx.Err() == nil
		if healthy && len(tail) > 0 {
			_ = s.send(tail)
		}
		s.mu.Unlock()
		if healthy && s.ctx.Err() == nil {
			s.flush()
		}
		_ = s.conn.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		s.cancel(ErrClosed)
		<-s.done
		s.stop()
	})
	return s.Err()
}

func (s *stream) flush() {
	if err := s.p.Finish(s.conn); err != nil {
		s.fail(fmt.Errorf("send end of stream: %w", err))
		return
	}
	t := time.NewTimer(s.e.o.FlushTimeout)
	defer t.Stop()
	select {
	case <-s.flushd:
	case <-s.done:
	case <-t.C:
		s.fail(errFlushTimeout)
	}
}
