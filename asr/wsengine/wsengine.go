// Package wsengine is the shared machinery of the WebSocket engine adapters: dialling,
// per-stream goroutine ownership, resampling to the rate the engine wants, write and flush
// deadlines, the stream limit, and turning every failure (garbage from the server, an early
// close, a hang) into an error on the stream rather than a crash or a silent end. An
// adapter supplies only its wire protocol, as a Protocol; see docs/asr-engines.md.
package wsengine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
)

// Protocol is one stream's side of a wire protocol. A new value serves each stream, so it
// may keep state; its methods are never called concurrently with each other except
// Handle, which runs on the reading goroutine (keep shared state behind a mutex or only
// in Handle).
type Protocol interface {
	// Start sends the opening messages. It may read (Conn.Read) to wait for the server's
	// acknowledgement.
	Start(c *Conn) error
	// Audio sends samples at Options.Rate.
	Audio(c *Conn, samples []int16) error
	// Finish sends the end-of-stream message that makes the server flush.
	Finish(c *Conn) error
	// Handle decodes one server message, emitting results through c.Emit. done reports
	// that the flush asked for by Finish is complete.
	Handle(c *Conn, typ int, msg []byte) (done bool, err error)
}

// Closer is implemented by a Protocol whose server may end the flush by closing the
// connection instead of sending a last message (sherpa-onnx's Python server).
type Closer interface {
	// Closed is told that the server closed the connection with code before Handle
	// reported the flush done. It may emit the last results; true means the close ended
	// the flush (only after Finish), false that it was an early close.
	Closed(c *Conn, code int) bool
}

// Options configure an engine built on this package.
type Options struct {
	Name string
	// URL to dial for each stream; Header is sent with the upgrade request.
	URL    string
	Header http.Header
	// Dial, when set, gives each stream its own URL and header instead of URL and Header:
	// for a URL signed per connection (a timestamp, a nonce, a fresh id) or one that
	// carries the stream's language. Its error fails NewStream before anything is dialled.
	Dial func(cfg asr.StreamConfig) (url string, header http.Header, err error)
	// Rate is the sample rate the protocol sends (frames are resampled to it); 0 sends
	// frames at the rate they are written.
	Rate int
	// MaxStreams limits concurrent streams (0: unlimited); beyond it NewStream returns
	// asr.ErrStreamLimit.
	MaxStreams int
	// DialTimeout bounds connecting and Start (10 s); WriteTimeout each send (5 s);
	// FlushTimeout the wait for the last results after Finish (10 s).
	DialTimeout, WriteTimeout, FlushTimeout time.Duration
	// ReplyTimeout, when set, fails a stream whose server sends nothing for this long
	// while audio it has been sent awaits an answer (for lock-step protocols).
	ReplyTimeout time.Duration
	// MaxMessage bounds a server message (1 MiB).
	MaxMessage int64
	TLS        *tls.Config
	// NewProtocol returns the protocol state for one stream.
	NewProtocol func(cfg asr.StreamConfig) (Protocol, error)
	Logger      *slog.Logger
}

// Engine is an asr.Engine speaking a WebSocket protocol.
type Engine struct {
	o     Options
	slots chan struct{}
}

// New checks the options and returns the engine. Nothing is dialled until NewStream.
func New(o Options) (*Engine, error) {
	if o.Name == "" || o.URL == "" || o.NewProtocol == nil {
		return nil, errors.New("wsengine: Name, URL and NewProtocol are required")
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.FlushTimeout == 0 {
		o.FlushTimeout = 10 * time.Second
	}
	if o.MaxMessage == 0 {
		o.MaxMessage = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Engine{o: o}
	if o.MaxStreams > 0 {
		e.slots = make(chan struct{}, o.MaxStreams)
	}
	return e, nil
}

// Name of the engine.
func (e *Engine) Name() string { return e.o.Name }

// String names the engine and where it lives.
func (e *Engine) String() string { return fmt.Sprintf("%s(%s)", e.o.Name, e.o.URL) }

// Close releases nothing: each stream owns its connection.
func (e *Engine) Close() error { return nil }

// NewStream dials the engine and starts the protocol.
func (e *Engine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}:
		default:
			return nil, fmt.Errorf("%s: %w (%d)", e.o.Name, asr.ErrStreamLimit, e.o.MaxStreams)
		}
	}
	s, err := e.open(ctx, cfg)
	if err != nil {
		if e.slots != nil {
			<-e.slots
		}
		return nil, err
	}
	return s, nil
}

func (e *Engine) open(ctx context.Context, cfg asr.StreamConfig) (*stream, error) {
	p, err := e.o.NewProtocol(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.o.Name, err)
	}
	u, h := e.o.URL, e.o.Header
	if e.o.Dial != nil {
		if u, h, err = e.o.Dial(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", e.o.Name, err)
		}
	}
	d := websocket.Dialer{HandshakeTimeout: e.o.DialTimeout, TLSClientConfig: e.o.TLS, Proxy: http.ProxyFromEnvironment}
	dctx, cancel := context.WithTimeout(ctx, e.o.DialTimeout)
	defer cancel()
	ws, resp, err := d.DialContext(dctx, u, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%s: dial %s: %w (HTTP %s)", e.o.Name, redact(u), err, resp.Status)
		}
		return nil, fmt.Errorf("%s: dial %s: %w", e.o.Name, redact(u), err)
	}
	ws.SetReadLimit(e.o.MaxMessage)
	s := newStream(ctx, e, cfg, p, ws)
	_ = ws.SetReadDeadline(time.Now().Add(e.o.DialTimeout))
	if err := p.Start(s.conn); err != nil {
		ws.Close()
		s.cancel(err)
		return nil, fmt.Errorf("%s: start: %w", e.o.Name, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	s.start()
	return s, nil
}

// redact drops the query from a URL for error messages: signed URLs carry a signature
// (and some a key id) that must not reach the logs.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
