// Package vosk speaks the Vosk server WebSocket protocol (alphacep/vosk-server,
// websocket/asr_server.py and websocket-cpp/asr_server.cpp): an optional {"config": …}
// text message, binary PCM16 at the declared rate (8 kHz telephone audio passes
// unresampled), one {"partial": …} or {"result": […], "text": …} reply per audio message
// ({"alternatives": […]} when the server is set to give alternatives), and the byte-exact
// text `{"eof" : 1}` to flush.
//
// The C++ server differs: it ignores the config, feeds it to the recogniser as audio and
// answers it like audio (one reply more than the Python server); it keeps the
// connection open after the final; and it compares the end of stream with strcmp on a
// buffer with no terminating zero, so `{"eof" : 1}` is recognised only when the byte after
// it, left by the previous message, is zero — the adapter sends a short message of zeros
// just before it. Chinese models put spaces between words; results join CJK words
// without them (the word list keeps them apart).
//
// Tested against the stand-in in vosk/vosktest (a mode per real server) and replays of
// the real servers' messages (testdata/asr/wire/vosk); no Vosk server runs here.
package vosk

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/lang"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// EOF is the end-of-stream message. Both servers compare it byte for byte, spaces included.
const EOF = `{"eof" : 1}`

// eofGuard is the length of the message of zeros sent just before EOF. The C++ server
// compares EOF with strcmp on a reused buffer (asr_server.cpp l.139): the byte after the
// 11 of EOF must be zero, and it is the 12th byte of the message before. 16 zero bytes are
// 2 ms of silence at 8 kHz.
const eofGuard = 16

// Config configures the adapter.
type Config struct {
	// URL of the server, e.g. ws://vosk:2700.
	URL string `yaml:"url"`
	// Languages picks the server by the line's language: a BCP-47 tag, or its primary
	// subtag, to the URL of a server running that language's model (zh-CN →
	// ws://vosk-cn:…). The language is fixed by the model a server loads at start, so
	// this is the engine's form of it; an unlisted language goes to URL.
	Languages map[string]string `yaml:"languages"`
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
		Dial: func(sc asr.StreamConfig) (string, http.Header, error) {
			if u, ok := lang.Lookup(cfg.Languages, sc.Language); ok {
				return u, nil, nil
			}
			return cfg.URL, nil, nil
		},
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
	// max_alternatives 0: a server started with VOSK_ALTERNATIVES > 0 would answer in
	// another shape
	return c.JSON(map[string]any{"config": map[string]any{"sample_rate": p.cfg.SampleRate, "words": true, "max_alternatives": 0}})
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

// Finish sends what is batched, the guard of zeros, then the byte-exact end of stream.
func (p *protocol) Finish(c *wsengine.Conn) error {
	// the count the end of stream will have: what is batched, the guard, itself
	eof := p.sent.Load() + 2
	if len(p.buf) > 0 {
		eof++
	}
	p.eofAt.Store(eof)
	if err := p.send(c); err != nil {
		return err
	}
	p.buf = append(p.buf[:0], make([]byte, eofGuard)...)
	if err := p.send(c); err != nil {
		return err
	}
	p.sent.Add(1)
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
	// with max_alternatives > 0 (vosk-api recognizer.cc NbestResult): the best first, its
	// confidence an unnormalised likelihood, its words without conf
	Alternatives []struct {
		Text   *string `json:"text"`
		Result []word  `json:"result"`
	} `json:"alternatives"`
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
	conf := true
	if len(m.Alternatives) > 0 && m.Text == nil && m.Partial == nil {
		m.Text, m.Result, conf = m.Alternatives[0].Text, m.Alternatives[0].Result, false
	}
	switch {
	case m.Partial != nil:
		// the server repeats the partial on every reply: pass on changes only
		text := Join(*m.Partial)
		if text != "" && text != p.partial && p.sc.Partials {
			c.Emit(asr.Result{UtteranceID: p.id, Text: text, Start: min(p.lastEnd, c.Sent()), End: c.Sent(), Confidence: -1})
		}
		p.partial = text
	case m.Text != nil:
		if *m.Text != "" || p.partial != "" {
			c.Emit(p.final(Join(*m.Text), m.Result, conf, c.Sent()))
			p.id++
		}
		p.partial = ""
	default:
		return false, fmt.Errorf("neither partial nor text: %.80q", b)
	}
	p.replies++
	// The Python server answers each message sent, so reply eofAt is the final. The C++
	// one also answered the config, so reply eofAt may be the guard's partial and the
	// final is the next.
	eof := p.eofAt.Load()
	return eof > 0 && (p.replies > eof || (p.replies == eof && m.Partial == nil)), nil
}

func (p *protocol) final(text string, ws []word, conf bool, sent time.Duration) asr.Result {
	r := asr.Result{UtteranceID: p.id, Text: text, Final: true, Start: min(p.lastEnd, sent), End: sent, Confidence: -1}
	if len(ws) > 0 {
		var sum float64
		for _, w := range ws {
			start := max(0, pcm.Seconds(w.Start))
			wc := -1.0
			if conf {
				wc = min(1, max(0, w.Conf))
				sum += wc
			}
			r.Words = append(r.Words, asr.Word{Text: w.Word, Start: start, End: max(start, pcm.Seconds(w.End)), Confidence: wc})
		}
		r.Start, r.End = r.Words[0].Start, max(r.Words[0].Start, r.Words[len(r.Words)-1].End)
		if conf {
			r.Confidence = sum / float64(len(ws))
		}
	}
	p.lastEnd = r.End
	return r
}

// Join joins the words of a Vosk text as the language writes them: Chinese and Japanese
// without spaces ("你好 我 要" → "你好我要"), other words with one.
func Join(text string) string { return lang.JoinWords(text) }
