// Package funasr speaks the FunASR runtime WebSocket protocol (modelscope/FunASR: the C++
// 2pass server runtime/websocket/bin/websocket-server-2pass.cpp, and the Python server
// runtime/python/websocket/funasr_wss_server.py): a JSON config message first —
// chunk_size required, hotwords as a JSON-encoded string —, binary PCM16 audio, partials
// from online deltas (accumulated here into the full hypothesis), a corrected, punctuated
// final per sentence from "2pass-offline", and {"is_speaking": false} to flush.
//
// The two servers differ where it matters. The C++ one sends is_final only on its last
// message, which has no mode when the call ends in silence, and in online mode never
// marks a sentence end (the adapter ends one after Config.OnlineGap without text). The
// Python one sends is_final on every sentence, timestamps as a list, and acknowledges
// the end of stream with is_end. The adapter tells them apart by what only the Python
// server sends.
//
// Tested against the stand-in in funasr/funasrtest (a mode per real server) and replays
// of the real servers' messages (testdata/asr/wire/funasr); no FunASR server runs here.
package funasr

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
	// OnlineGap ends a sentence in online mode after this long with no new text (2 s):
	// the C++ server never marks sentence ends in that mode.
	OnlineGap time.Duration `yaml:"online_final_gap"`
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
	if cfg.OnlineGap <= 0 {
		cfg.OnlineGap = 2 * time.Second
	}
	if cfg.HotwordWeight == 0 {
		cfg.HotwordWeight = 20
	}
	o := wsengine.Options{
		Name: "funasr", URL: cfg.URL, Rate: cfg.SampleRate, MaxStreams: cfg.MaxStreams,
		DialTimeout: cfg.DialTimeout, FlushTimeout: cfg.FlushTimeout, Logger: cfg.Logger,
		NewProtocol: func(sc asr.StreamConfig) (wsengine.Protocol, error) {
			return &protocol{cfg: cfg, sc: sc, now: time.Now}, nil
		},
	}
	if cfg.InsecureSkipVerify {
		o.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // FunASR ships a self-signed certificate
	}
	return wsengine.New(o)
}

type protocol struct {
	cfg Config
	sc  asr.StreamConfig
	buf []byte

	// finishing is set once the end-of-stream message is sent: a Python-server sentence
	// final that arrives before it proves the dialect.
	finishing atomic.Bool

	mu      sync.Mutex // Handle runs on the reader, Audio on the writer: both may end a sentence
	id      int
	online  string // accumulated online deltas of the current sentence
	now     func() time.Time
	heard   time.Time     // when the last delta arrived (online mode)
	lastEnd time.Duration // end of the last final
	python  bool          // the server is the Python one: is_final marks sentences, not the end
}

// Start sends the configuration message.
func (p *protocol) Start(c *wsengine.Conn) error {
	msg := map[string]any{
		"mode": p.cfg.Mode, "wav_name": "lianxin-" + p.sc.Channel, "wav_format": "pcm",
		"audio_fs": p.cfg.SampleRate, "is_speaking": true, "chunk_size": p.cfg.ChunkSize,
		"chunk_interval": 10, "itn": !p.cfg.NoITN,
	}
	if l := svsLang(p.sc.Language); l != "" {
		msg["svs_lang"] = l
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

// svsLang is the line's language as the server's svs_lang (SenseVoiceSmall's language:
// zh, en, yue, ja, ko or auto; runtime/docs/websocket_protocol.md). Paraformer models
// have one language and ignore it. A line with no language sends none (the server's
// default, auto).
func svsLang(tag string) string {
	if tag == "" {
		return ""
	}
	base, region, _ := strings.Cut(strings.ToLower(tag), "-")
	switch {
	case base == "yue", base == "zh" && (region == "hk" || region == "mo"):
		return "yue"
	case base == "zh", base == "cmn":
		return "zh"
	case base == "en", base == "ja", base == "ko":
		return base
	}
	return "auto"
}

// Audio sends PCM16LE. In online mode it first ends a sentence the server has been silent
// about for OnlineGap: the C++ server never marks sentence ends in that mode.
func (p *protocol) Audio(c *wsengine.Conn, s []int16) error {
	if p.cfg.Mode == "online" {
		p.mu.Lock()
		p.gap(c)
		p.mu.Unlock()
	}
	p.buf = pcm.AppendS16LE(p.buf[:0], s)
	return c.Binary(p.buf)
}

// Finish asks for the last sentence. is_end asks the Python server (since mid-2026) for an
// acknowledgement after its last result; the C++ server ignores it.
func (p *protocol) Finish(c *wsengine.Conn) error {
	p.finishing.Store(true)
	return c.Text(`{"is_speaking": false, "is_end": true}`)
}

type message struct {
	Mode    string  `json:"mode"`
	Text    *string `json:"text"`
	IsFinal bool    `json:"is_final"`
	IsEnd   *bool   `json:"is_end"` // the Python server's acknowledgement of is_end
	// a string of [[ms,ms]…] (C++), a list of them (Python), or the C++ connection's
	// start epoch in ms when there are no stamps
	Timestamp json.RawMessage `json:"timestamp"`
	SpkName   *string         `json:"spk_name"` // only the Python server names speakers
	Error     string          `json:"error"`
}

// Handle turns server messages into results. The C++ server sends is_final only on its
// last message, whose mode is absent when neither pass had text (trailing silence); the
// Python server sends is_final on every sentence and ends with an is_end acknowledgement.
func (p *protocol) Handle(c *wsengine.Conn, typ int, b []byte) (bool, error) {
	if typ != websocket.TextMessage {
		return false, fmt.Errorf("unexpected binary message (%d bytes)", len(b))
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%w: %.80q", err, b)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.IsEnd != nil && *m.IsEnd {
		if m.Error != "" {
			return false, fmt.Errorf("server: %s", m.Error)
		}
		p.final(c, "", nil)
		return true, nil
	}
	if m.Text == nil {
		return false, fmt.Errorf("message without text: %.80q", b)
	}
	if strings.HasPrefix(*m.Text, "ERROR") {
		return false, fmt.Errorf("server: %s", *m.Text)
	}
	p.learn(m)
	switch m.Mode {
	case "online", "2pass-online":
		p.delta(c, m)
		if m.IsFinal {
			// the C++ server's last message, or a Python online-mode sentence end: no
			// offline pass will correct this text
			p.final(c, "", m.Timestamp)
		}
	case "offline", "2pass-offline":
		p.final(c, strings.TrimSpace(*m.Text), m.Timestamp)
	case "":
		// the C++ server's last message after trailing silence: neither pass had text
		if !m.IsFinal || strings.TrimSpace(*m.Text) != "" {
			return false, fmt.Errorf("message without mode: %.80q", b)
		}
		p.final(c, "", nil)
	default:
		return false, fmt.Errorf("unknown mode %q", m.Mode)
	}
	return m.IsFinal && !p.python, nil
}

// learn tells the Python server from the C++ one by what only the Python one sends.
func (p *protocol) learn(m message) {
	ts := bytes.TrimSpace(m.Timestamp)
	switch {
	case m.SpkName != nil, m.Mode == "online", m.Mode == "offline", len(ts) > 0 && ts[0] == '[':
		p.python = true
	case m.IsFinal && m.Mode == "2pass-offline" && !p.finishing.Load():
		p.python = true // a sentence final before the end was asked for
	}
}

// delta adds an online result to the sentence's hypothesis and reports it as a partial.
func (p *protocol) delta(c *wsengine.Conn, m message) {
	if p.cfg.Mode == "online" {
		p.gap(c)
		p.heard = p.now()
	}
	p.online += *m.Text
	if t := strings.TrimSpace(p.online); t != "" && p.sc.Partials {
		start, end := p.times(m.Timestamp, c.Sent())
		c.Emit(asr.Result{UtteranceID: p.id, Text: t, Start: start, End: end, Confidence: -1})
	}
}

// gap ends the sentence when OnlineGap has gone by since its last text: a silence the
// server did not mark. The clock is the wall's, not the audio's: audio written faster
// than real time (a file) is not silence, and audio held back by a silence gate is.
func (p *protocol) gap(c *wsengine.Conn) {
	if p.online != "" && p.now().Sub(p.heard) >= p.cfg.OnlineGap {
		p.final(c, "", nil)
	}
}

// final ends the current sentence with text, or with the online hypothesis when text is
// empty; a sentence with neither emits nothing.
func (p *protocol) final(c *wsengine.Conn, text string, raw json.RawMessage) {
	if text == "" {
		text = strings.TrimSpace(p.online)
	}
	p.online = ""
	if text == "" {
		return
	}
	start, end := p.times(raw, c.Sent())
	c.Emit(asr.Result{UtteranceID: p.id, Text: text, Final: true, Start: start, End: end, Confidence: -1, Words: words(text, raw)})
	p.id++
	p.lastEnd = end
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

// stamps decodes a timestamp field: a string holding [[start_ms,end_ms]…] (C++ server) or
// the list itself (Python server); anything else (the int newer C++ servers put there
// when they have no stamps) is no stamps.
func stamps(raw json.RawMessage) [][2]float64 {
	var ts [][2]float64
	if len(raw) == 0 {
		return nil
	}
	if json.Unmarshal(raw, &ts) == nil {
		return ts
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || json.Unmarshal([]byte(s), &ts) != nil {
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
