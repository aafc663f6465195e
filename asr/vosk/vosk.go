// Package vosk speaks the Vosk server WebSocket protocol (alphacep/vosk-server,
// websocket/asr_server.py and websocket-cpp): an optional {"config": …} text message,
// binary PCM16 at the declared rate (8 kHz telephone audio passes unresampled), one
// {"partial": …} or {"result": […], "text": …} reply per audio message, and the
// byte-exact text `{"eof" : 1}` to flush, after which the server closes.
//
// Tested against the stand-in in vosk/vosktest; no Vosk server runs here.
package vosk

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// EOF is the end-of-stream message. Both servers compare it byte for byte, spaces included.
const EOF = `{"eof" : 1}`

// Config configures the adapter.
type Config struct {
	// URL of the server, e.g. ws://vosk:2700.
	URL string `yaml:"url"`
	// SampleRate declared to the server and sent (8000 default: the model's rate).
	SampleRate int `yaml:"sample_rate"`
	// Chunk is the audio per message (100 ms): the server answers every message, so
	// 20 ms frames would mean 50 replies a second per stream.
	Chunk time.Duration `yaml:"chunk"`
	// NoConfig skips the config message (the C++ server has no config handling).
	NoConfig bool `yaml:"no_config"`
	// MaxStreams the server is sized for (0: unlimited).
	MaxStreams int `yaml:"max_streams"`
	// ReplyTimeout fails a stream whose server stops answering (5 s); the protocol is
	// lock-step, so silence from the server means it hangs.
	ReplyTimeout time.Duration `yaml:"reply_timeout"`
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	FlushTimeout time.Duration `yaml:"flush_timeout"`
	Logger       *slog.Logger  `yaml:"-"`
}

// New returns the engine, named "vosk".
func New(cfg Config) (asr.Engine, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = 100 * time.Millisecond
	}
	if cfg.ReplyTimeout == 0 {
		cfg.ReplyTimeout = 5 * time.Second
	}
	return wsengine.New(wsengine.Options{
		Name: "vosk", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, ReplyTimeout: cfg.ReplyTimeout,
		Logger:      cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) { return &protocol{cfg: cfg, sc: sc}, nil },
	})
}

// protocol counts messages and replies: the server answers each audio message and the
// end of stream exactly once, so the flush is done when the end of stream is answered —
// a close before that is an early close, not the end.
type protocol struct {
	sent    atomic.Int64 // audio and end-of-stream messages sent
	eofAt   atomic.Int64 // the count at which the end of stream was sent (0: not yet)
	replies int64
	cfg     Config
	sc      asr.StreamConfig
	buf     []byte
	id      int
	partial string
	lastEnd time.Duration
}

// Start declares the rate and asks for word times.
func (p *protocol) Start(c *wsengine.Conn) error {
	if p.cfg.NoConfig {
		return nil
	}
	return c.JSON(map[string]any{"config": map[string]any{"sample_rate": p.cfg.SampleRate, "words": true}})
}

// Audio batches samples into Chunk-sized messages.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf, s)
	if len(p.buf) < int(p.cfg.Chunk*time.Duration(p.cfg.SampleRate)/time.Second)*2 {
		return nil
	}
	return p.send(c)
}

func (p *protocol) send(c *wsengine.Conn) error {
	if len(p.buf) == 0 {
		return nil
	}
	p.sent.Add(1)
	err := c.Binary(p.buf)
	p.buf = p.buf[:0]
	return err
}

// Finish sends what is batched, then the byte-exact end of stream.
func (p *protocol) Finish(c *wsengine.Conn) error {
	if err := p.send(c); err != nil {
		return err
	}
	p.eofAt.Store(p.sent.Add(1))
	return c.Text(EOF)
}

type word struct {
	Conf  float64 `json:"conf"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Word  string  `json:"word"`
}

type message struct {
	Partial *string `json:"partial"`
	Text    *string `json:"text"`
	Result  []word  `json:"result"`
}

// Handle turns replies into results.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	switch {
	case m.Partial != nil:
		// the server repeats the partial on every reply: pass on changes only
		if *m.Partial != "" && *m.Partial != p.partial && p.sc.Partials {
			c.Emit(asr.Result{UtteranceID: p.id, Text: *m.Partial, Start: min(p.lastEnd, c.Sent()), End: c.Sent(), Confidence: -1})
		}
		p.partial = *m.Partial
	case m.Text != nil:
		if *m.Text != "" || p.partial != "" {
			c.Emit(p.final(*m.Text, m.Result, c.Sent()))
			p.id++
		}
		p.partial = ""
	default:
		return false, fmt.Errorf("neither partial nor text: %.80q", b)
	}
	p.replies++
	eof := p.eofAt.Load()
	return eof > 0 && p.replies >= eof, nil
}

func (p *protocol) final(text string, ws []word, sent time.Duration) asr.Result {
	r := asr.Result{UtteranceID: p.id, Text: text, Final: true, Start: min(p.lastEnd, sent), End: sent, Confidence: -1}
	if len(ws) > 0 {
		var conf float64
		for _, w := range ws {
			start := max(0, pcm.Seconds(w.Start))
			r.Words = append(r.Words, asr.Word{Text: w.Word, Start: start, End: max(start, pcm.Seconds(w.End)), Confidence: min(1, max(0, w.Conf))})
			conf += r.Words[len(r.Words)-1].Confidence
		}
		r.Start, r.End = r.Words[0].Start, max(r.Words[0].Start, r.Words[len(r.Words)-1].End)
		r.Confidence = conf / float64(len(ws))
	}
	p.lastEnd = r.End
	return r
}
