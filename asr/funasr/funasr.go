// Package funasr speaks the FunASR runtime WebSocket protocol (the C++ 2pass server of
// modelscope/FunASR, runtime/docs/websocket_protocol.md): a JSON config message first —
// chunk_size required, hotwords as a JSON-encoded string —, binary PCM16 audio, partials
// from "2pass-online" deltas (accumulated here into the full hypothesis), a corrected,
// punctuated final per sentence from "2pass-offline", and {"is_speaking": false} to flush.
//
// Tested against the stand-in in funasr/funasrtest; no FunASR server runs here.
package funasr

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/wsengine"
)

// Config configures the adapter.
type Config struct {
	// URL of the server, e.g. ws://funasr:10095 (the server enables SSL by default:
	// wss://, with InsecureSkipVerify for its self-signed certificate).
	URL string `yaml:"url"`
	// Mode is "2pass" (default) or "online".
	Mode string `yaml:"mode"`
	// ChunkSize in 60 ms units: look-back, chunk, look-ahead ([5, 10, 5]).
	ChunkSize [3]int `yaml:"chunk_size"`
	// SampleRate sent as audio_fs: 16000 (default) or 8000 (telephone audio unresampled).
	SampleRate int `yaml:"sample_rate"`
	// ITN turns "一二三四五" into "12345" (default true; set NoITN to turn off).
	NoITN bool `yaml:"no_itn"`
	// HotwordWeight is the weight given to each per-stream hotword (20).
	HotwordWeight int `yaml:"hotword_weight"`
	// MaxStreams the server is sized for (0: unlimited).
	MaxStreams int `yaml:"max_streams"`
	// Timeouts (see wsengine.Options).
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	FlushTimeout time.Duration `yaml:"flush_timeout"`
	// InsecureSkipVerify accepts the server's self-signed certificate.
	InsecureSkipVerify bool         `yaml:"insecure_skip_verify"`
	Logger             *slog.Logger `yaml:"-"`
}

// New returns the engine, named "funasr".
func New(cfg Config) (asr.Engine, error) {
	if cfg.Mode == "" {
		cfg.Mode = "2pass"
	}
	if cfg.Mode != "2pass" && cfg.Mode != "online" {
		return nil, fmt.Errorf("funasr: mode %q: want 2pass or online", cfg.Mode)
	}
	if cfg.ChunkSize == [3]int{} {
		cfg.ChunkSize = [3]int{5, 10, 5}
	}
	if cfg.ChunkSize[1] == 0 {
		return nil, fmt.Errorf("funasr: chunk_size %v: the middle value must not be 0", cfg.ChunkSize)
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 16000
	}
	if cfg.SampleRate != 16000 && cfg.SampleRate != 8000 {
		return nil, fmt.Errorf("funasr: sample_rate %d: want 16000 or 8000", cfg.SampleRate)
	}
	if cfg.HotwordWeight == 0 {
		cfg.HotwordWeight = 20
	}
	o := wsengine.Options{
		Name: "funasr", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) { return &protocol{cfg: cfg, sc: sc}, nil },
	}
	if cfg.InsecureSkipVerify {
		o.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // FunASR ships a self-signed certificate
	}
	return wsengine.New(o)
}

type protocol struct {
	cfg     Config
	sc      asr.StreamConfig
	buf     []byte
	id      int
	online  string        // accumulated online deltas of the current sentence
	lastEnd time.Duration // end of the last final
}

// Start sends the configuration message.
func (p *protocol) Start(c *wsengine.Conn) error {
	msg := map[string]any{
		"mode": p.cfg.Mode, "wav_name": "lianxin-" + p.sc.Channel, "wav_format": "pcm",
		"audio_fs": p.cfg.SampleRate, "is_speaking": true, "chunk_size": p.cfg.ChunkSize,
		"chunk_interval": 10, "itn": !p.cfg.NoITN,
	}
	if len(p.sc.Hotwords) > 0 {
		hw := map[string]int{}
		for _, w := range p.sc.Hotwords {
			hw[w] = p.cfg.HotwordWeight
		}
		b, err := json.Marshal(hw)
		if err != nil {
			return err
		}
		msg["hotwords"] = string(b) // a string holding JSON: the C++ server parses it again
	}
	return c.JSON(msg)
}

// Audio sends PCM16LE.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	p.buf = pcm.AppendS16LE(p.buf[:0], s)
	return c.Binary(p.buf)
}

// Finish asks for the last sentence.
func (p *protocol) Finish(c *wsengine.Conn) error { return c.Text(`{"is_speaking": false}`) }

type message struct {
	Mode      string          `json:"mode"`
	Text      *string         `json:"text"`
	IsFinal   bool            `json:"is_final"`
	Timestamp json.RawMessage `json:"timestamp"` // a string of [[ms,ms]…], or (newer servers) an int
}

// Handle turns server messages into results.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	if m.Text == nil {
		return false, fmt.Errorf("message without text: %.80q", b)
	}
	if strings.HasPrefix(*m.Text, "ERROR") {
		return false, fmt.Errorf("server: %s", *m.Text)
	}
	switch m.Mode {
	case "online", "2pass-online":
		p.online += *m.Text
		if t := strings.TrimSpace(p.online); t != "" && p.sc.Partials {
			start, end := p.times(m.Timestamp, c.Sent())
			c.Emit(asr.Result{UtteranceID: p.id, Text: t, Start: start, End: end, Confidence: -1})
		}
	case "offline", "2pass-offline":
		text := strings.TrimSpace(*m.Text)
		if text != "" || strings.TrimSpace(p.online) != "" {
			start, end := p.times(m.Timestamp, c.Sent())
			r := asr.Result{UtteranceID: p.id, Text: text, Final: true, Start: start, End: end, Confidence: -1, Words: words(text, m.Timestamp)}
			c.Emit(r)
			p.id++
			p.lastEnd = end
		}
		p.online = ""
	default:
		return false, fmt.Errorf("unknown mode %q", m.Mode)
	}
	return m.IsFinal, nil
}

// times are the span of the timestamps, or [end of the last final, audio sent] without them.
func (p *protocol) times(raw json.RawMessage, sent time.Duration) (time.Duration, time.Duration) {
	ts := stamps(raw)
	if len(ts) == 0 {
		return min(p.lastEnd, sent), sent
	}
	return span(ms(ts[0][0]), ms(ts[len(ts)-1][1]))
}

// span orders and clamps a server's times: bad input must not make time run backwards.
func span(a, b time.Duration) (time.Duration, time.Duration) {
	a = max(a, 0)
	return a, max(a, b)
}

// stamps decodes a timestamp field: a string holding [[start_ms,end_ms]…]; anything else
// (the int newer servers put there when they have no stamps) is no stamps.
func stamps(raw json.RawMessage) [][2]float64 {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return nil
	}
	var ts [][2]float64
	if json.Unmarshal([]byte(s), &ts) != nil {
		return nil
	}
	return ts
}

// words pairs stamps with tokens when their counts agree (words, or characters for
// Mandarin text without spaces).
func words(text string, raw json.RawMessage) []asr.Word {
	ts := stamps(raw)
	if len(ts) == 0 {
		return nil
	}
	toks := strings.Fields(text)
	if len(toks) != len(ts) {
		toks = nil
		for _, r := range text {
			if !strings.ContainsRune("，。？！、,.?! ", r) {
				toks = append(toks, string(r))
			}
		}
	}
	if len(toks) != len(ts) {
		return nil
	}
	out := make([]asr.Word, len(ts))
	for i, t := range ts {
		start, end := span(ms(t[0]), ms(t[1]))
		out[i] = asr.Word{Text: strings.Trim(toks[i], ",.?!"), Start: start, End: end, Confidence: -1}
	}
	return out
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
