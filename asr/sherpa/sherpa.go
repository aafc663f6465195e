// Package sherpa speaks the sherpa-onnx streaming WebSocket server protocol (the C++
// sherpa-onnx-online-websocket-server, k2-fsa/sherpa-onnx online-websocket-server-impl.cc):
// no configuration message, binary float32 little-endian samples in [-1, 1] at the model's
// rate (16 kHz: telephone audio is resampled here), one JSON result per decode step with
// the segment's cumulative text, is_final at each endpoint, and the text "Done" to finish,
// answered by a last result with is_eof and the text "Done!".
//
// Tested against the stand-in in sherpa/sherpatest; no sherpa-onnx server runs here.
package sherpa

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// Config configures the adapter.
type Config struct {
	// URL of the server, e.g. ws://sherpa:6006.
	URL string `yaml:"url"`
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
		Name: "sherpa", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) { return &protocol{sc: sc}, nil },
	})
}

type protocol struct {
	sc      asr.StreamConfig
	buf     []byte
	id      int
	partial string
	lastEnd time.Duration
}

// Start sends nothing: the server is configured on its command line.
func (p *protocol) Start(*wsengine.Conn) error { return nil }

// Audio sends float32 samples.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendF32LE(p.buf[:0], s)
	return c.Binary(p.buf)
}

// Finish asks for the rest.
func (p *protocol) Finish(c *wsengine.Conn) error { return c.Text("Done") }

type message struct {
	Text       *string   `json:"text"`
	Tokens     []string  `json:"tokens"`
	Timestamps []float64 `json:"timestamps"`
	YsProbs    []float64 `json:"ys_probs"`
	Segment    int       `json:"segment"`
	StartTime  float64   `json:"start_time"`
	IsFinal    bool      `json:"is_final"`
	IsEOF      bool      `json:"is_eof"`
}

// tokenDur is a guess at a token's length: the protocol gives token start times only.
const tokenDur = 300 * time.Millisecond

// Handle turns results into asr results.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	if string(b) == "Done!" {
		return true, nil
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Text == nil {
		return false, fmt.Errorf("result without text: %.80q", b)
	}
	text := strings.TrimSpace(*m.Text)
	if !m.IsFinal {
		if text != "" && text != p.partial && p.sc.Partials {
			start, end := p.times(m, c.Sent())
			c.Emit(asr.Result{UtteranceID: p.id, Text: text, Start: start, End: end, Confidence: -1})
		}
		p.partial = text
		return false, nil
	}
	if text != "" || p.partial != "" {
		start, end := p.times(m, c.Sent())
		c.Emit(asr.Result{UtteranceID: p.id, Text: text, Final: true, Start: start, End: end, Confidence: confidence(m.YsProbs), Words: words(m)})
		p.id++
		p.lastEnd = end
	}
	p.partial = ""
	return false, nil
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
