// Package sherpa speaks the sherpa-onnx streaming WebSocket server protocols: the C++
// sherpa-onnx-online-websocket-server (k2-fsa/sherpa-onnx online-websocket-server-impl.cc)
// and the Python python-api-examples/streaming_server.py. Both take no configuration
// message, binary float32 little-endian samples in [-1, 1] at the model's rate (16 kHz:
// telephone audio is resampled here), answer each decode step with the segment's
// cumulative text, and take the text "Done" to finish. The C++ server marks endpoints
// with is_final, the last result with is_eof, and also sends "Done!", possibly before
// that last result. The Python server sends only {"text","segment"}, the number rising
// after each endpoint, and after "Done" one last result, then closes.
//
// Tested against the stand-in in sherpa/sherpatest (a mode per real server) and replays
// of the real servers' messages (testdata/asr/wire/sherpa); no sherpa-onnx server runs
// here.
package sherpa

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/lang"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// Config configures the adapter.
type Config struct {
	// URL of the server, e.g. ws://sherpa:6006.
	URL string `yaml:"url"`
	// Languages picks the server by the line's language: a BCP-47 tag, or its primary
	// subtag, to the URL of a server running that language's model (zh-CN →
	// ws://sherpa-cn:…). The language is fixed by the model a server loads at start, so
	// this is the engine's form of it; an unlisted language goes to URL.
	Languages map[string]string `yaml:"languages"`
	// SampleRate of the model (16000); the server does not resample.
	SampleRate int `yaml:"sample_rate"`
	// MaxStreams the server is sized for (0: unlimited; the server answers 503 beyond
	// its own --max-active-connections).
	MaxStreams   int           `yaml:"max_streams"`
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	FlushTimeout time.Duration `yaml:"flush_timeout"`
	Logger       *slog.Logger  `yaml:"-"`
}

// New returns the engine, named "sherpa".
func New(cfg Config) (asr.Engine, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 16000
	}
	return wsengine.New(wsengine.Options{
		Dial: func(sc asr.StreamConfig) (string, http.Header, error) {
			if u, ok := lang.Lookup(cfg.Languages, sc.Language); ok {
				return u, nil, nil
			}
			return cfg.URL, nil, nil
		},
		Name: "sherpa", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) { return &protocol{sc: sc}, nil },
	})
}

type protocol struct {
	sc        asr.StreamConfig
	buf       []byte
	finishing atomic.Bool // "Done" was sent: a normal close from now on ends the flush

	// the rest is the reading goroutine's
	id      int
	partial string
	open    bool    // a partial of utterance id was emitted: it needs a final
	held    message // the message partial came from
	lastEnd time.Duration
	seg     int  // the Python server's segment number
	eofKey  bool // the C++ server sends is_eof (since 2025-05): only that ends the flush
}

// Start sends nothing: the server is configured on its command line.
func (p *protocol) Start(*wsengine.Conn) error { return nil }

// Audio sends float32 samples.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendF32LE(p.buf[:0], s)
	return c.Binary(p.buf)
}

// Finish asks for the rest.
func (p *protocol) Finish(c *wsengine.Conn) error {
	p.finishing.Store(true)
	return c.Text("Done")
}

type message struct {
	Text       *string   `json:"text"`
	Tokens     []string  `json:"tokens"`
	Timestamps []float64 `json:"timestamps"`
	YsProbs    []float64 `json:"ys_probs"`
	Segment    int       `json:"segment"`
	StartTime  float64   `json:"start_time"`
	IsFinal    *bool     `json:"is_final"` // absent from the Python server's results
	IsEOF      *bool     `json:"is_eof"`
}

// tokenDur is a guess at a token's length: the protocol gives token start times only.
const tokenDur = 300 * time.Millisecond

// Handle turns results into asr results. The C++ server marks finals with is_final and
// the last result with is_eof; it sends "Done!" from another thread, so that can come
// first and ends the flush only for servers too old to send is_eof. The Python server
// sends {"text","segment"} only: a segment's last result is its final, known when the
// number changes or the server closes after "Done".
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	if string(b) == "Done!" {
		return !p.eofKey, nil
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Text == nil {
		return false, fmt.Errorf("result without text: %.80q", b)
	}
	if m.IsFinal == nil {
		if m.Segment != p.seg {
			p.final(c)
			p.seg = m.Segment
		}
		p.hypothesis(c, m)
		return false, nil
	}
	p.eofKey = p.eofKey || m.IsEOF != nil
	p.hypothesis(c, m)
	if *m.IsFinal {
		p.final(c)
	}
	return m.IsEOF != nil && *m.IsEOF, nil
}

// Closed ends the flush when the server closes normally after "Done": the Python server
// sends its last result and returns, which closes the connection. Its text is final. The
// C++ server (one that sends is_eof) never closes first, so its close without is_eof is a
// server that ended without its final.
func (p *protocol) Closed(c *wsengine.Conn, code int) bool {
	if code != websocket.CloseNormalClosure || !p.finishing.Load() || p.eofKey {
		return false
	}
	p.final(c)
	return true
}

// hypothesis reports a changed text as a partial and keeps it for the final.
func (p *protocol) hypothesis(c *wsengine.Conn, m message) {
	text := strings.TrimSpace(*m.Text)
	if text != "" && text != p.partial && p.sc.Partials {
		start, end := p.times(m, c.Sent())
		c.Emit(asr.Result{UtteranceID: p.id, Text: text, Start: start, End: end, Confidence: -1})
		p.open = true
	}
	p.partial, p.held = text, m
}

// final makes the kept hypothesis the segment's final.
func (p *protocol) final(c *wsengine.Conn) {
	if p.partial != "" || p.open {
		// an utterance whose text was revised to nothing still ends, empty
		m := p.held
		start, end := p.times(m, c.Sent())
		c.Emit(asr.Result{UtteranceID: p.id, Text: p.partial, Final: true, Start: start, End: end, Confidence: confidence(m.YsProbs), Words: words(m)})
		p.id++
		p.lastEnd = end
	}
	p.partial, p.held, p.open = "", message{}, false
}

// times: from the segment start and token stamps, the end guessed a token past the last
// stamp but never past the audio sent.
func (p *protocol) times(m message, sent time.Duration) (time.Duration, time.Duration) {
	seg := max(0, pcm.Seconds(m.StartTime))
	if len(m.Timestamps) == 0 {
		return min(max(seg, p.lastEnd), sent), sent
	}
	start := seg + max(0, pcm.Seconds(m.Timestamps[0]))
	end := min(seg+max(0, pcm.Seconds(m.Timestamps[len(m.Timestamps)-1]))+tokenDur, max(sent, start))
	return start, max(start, end)
}

func words(m message) []asr.Word {
	if len(m.Tokens) != len(m.Timestamps) {
		return nil
	}
	seg := max(0, pcm.Seconds(m.StartTime))
	out := make([]asr.Word, len(m.Tokens))
	for i, t := range m.Tokens {
		start := seg + max(0, pcm.Seconds(m.Timestamps[i]))
		end := start + tokenDur
		if i+1 < len(m.Timestamps) {
			end = max(start, seg+pcm.Seconds(m.Timestamps[i+1]))
		}
		conf := -1.0
		if i < len(m.YsProbs) {
			conf = math.Exp(min(0, m.YsProbs[i]))
		}
		out[i] = asr.Word{Text: strings.TrimSpace(t), Start: start, End: end, Confidence: conf}
	}
	return out
}

// confidence is exp(mean log-probability) of the tokens.
func confidence(lp []float64) float64 {
	if len(lp) == 0 {
		return -1
	}
	var s float64
	for _, v := range lp {
		s += min(0, v)
	}
	c := math.Exp(s / float64(len(lp)))
	if math.IsNaN(c) {
		return -1
	}
	return c
}
