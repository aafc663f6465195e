// Package funasrtest is a stand-in FunASR runtime server (2pass WebSocket protocol) for
// tests: it enforces the protocol's traps — the first message must be a JSON config with
// a 3-int chunk_size whose middle value is non-zero, hotwords must be a string holding a
// JSON object, audio must be whole PCM16 samples — and recognises tone words (package
// tone) instead of speech. Its modes copy the message sequence and field types of the
// real C++ and Python servers (see Mode). It is a stand-in, not FunASR.
package funasrtest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Mode is the real server a stand-in copies, message for message.
type Mode int

// Modes. File and line references are to modelscope/FunASR @ 3c58cb5 (2026-08-21) unless
// given.
const (
	// CPP is runtime/websocket/bin/websocket-server-2pass.cpp: results only from 1,600-byte
	// blocks (l.587-598), is_final false on everything but the last message (l.209, 252),
	// the connection's start epoch (ms, an int) in timestamp when there are no stamps
	// (l.97), mode set only when a pass has text (l.84, 105), so the last message after
	// trailing silence has no mode; in online mode no 2pass-offline at all (l.99-121).
	CPP Mode = iota
	// CPPLegacy is the same file @ 1819303 (2024-10), as shipped in the
	// funasr-runtime-sdk-online-cpu-0.1.13 image: no timestamp when there are no stamps,
	// no index or slice_type, and in online mode the punctuated sentence still comes as
	// 2pass-offline.
	CPPLegacy
	// Python is runtime/python/websocket/funasr_wss_server.py: every sentence final has
	// is_final true (l.777) and timestamp as a list (l.780), a speaker name (l.773); in
	// online mode "online" results, the one closing a sentence with is_final true
	// (l.824); at the end a last offline result only when audio is pending (l.408-430)
	// and, when asked with is_end, an acknowledgement without text (l.446-458).
	Python
)

// String names the mode.
func (m Mode) String() string { return [...]string{"cpp", "cpp-legacy", "python"}[m] }

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in of the current C++ server on 127.0.0.1.
func New() *Server { return NewMode(CPP) }

// NewMode starts a stand-in copying the server m.
func NewMode(m Mode) *Server {
	return &Server{standin.New("funasr-"+m.String(), func(c *standin.Session) { serve(c, m) }, nil)}
}

// URL is the address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/") }

type config struct {
	Mode       *string         `json:"mode"`
	WavName    *string         `json:"wav_name"`
	WavFormat  *string         `json:"wav_format"`
	AudioFS    *int            `json:"audio_fs"`
	IsSpeaking *bool           `json:"is_speaking"`
	ChunkSize  []int           `json:"chunk_size"`
	Hotwords   json.RawMessage `json:"hotwords"`
	ITN        *bool           `json:"itn"`
	// SVSLang is SenseVoiceSmall's language (websocket_protocol.md: zh, en, yue, ja, ko,
	// auto); the server passes it to the model, where another value fails the decode
	SVSLang *string `json:"svs_lang"`
}

// session is one connection's state: what the server remembers between messages.
type session struct {
	c       *standin.Session
	m       Mode
	mode    string // the config's mode: 2pass or online
	name    string
	epoch   int64  // the C++ server's data_msg->timestamp: when the connection opened
	index   int    // the C++ server's sentence index (l.89-111)
	started bool   // the C++ server's is_sentence_started
	pending bool   // Python: audio the offline pass has not seen
	held    string // Python online mode: the delta kept for the sentence's is_final
	said    bool   // a word has been sent
	dec     *tone.Decoder
}

func (s *session) send(r map[string]any) bool {
	r["wav_name"] = s.name
	b, _ := json.Marshal(r) // map keys sorted, as nlohmann::json dumps them
	return s.c.Send(b) == nil
}

func serve(c *standin.Session, m Mode) {
	cfg, ok := handshake(c)
	if !ok {
		return
	}
	rate := 16000
	if cfg.AudioFS != nil {
		rate = *cfg.AudioFS
	}
	s := &session{c: c, m: m, mode: *cfg.Mode, name: *cfg.WavName, epoch: 1764264000000, dec: tone.NewDecoder(rate)}
	var block []byte // the C++ server decodes 1,600 bytes at a time (l.587-598)
	for {
		typ, b, err := c.Read()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			if len(b)%2 != 0 {
				c.Violation("audio frame of %d bytes is not whole PCM16 samples", len(b))
				return
			}
			if c.Hear(pcm.S16LE(b), rate) {
				return
			}
			s.pending = true
			if m == Python {
				if !s.emit(s.dec.Feed(pcm.S16LE(b))) {
					return
				}
				continue
			}
			block = append(block, b...)
			n := len(block) / 1600 * 1600
			if !s.emit(s.dec.Feed(pcm.S16LE(block[:n]))) {
				return
			}
			block = block[n:]
			continue
		}
		var msg struct {
			IsSpeaking *bool `json:"is_speaking"`
			IsFinished *bool `json:"is_finished"`
			IsEnd      bool  `json:"is_end"`
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			// the real server marks the connection EOF and silently ignores the rest
			c.Violation("malformed JSON %.60q", b)
			return
		}
		if (msg.IsSpeaking != nil && !*msg.IsSpeaking) || (msg.IsFinished != nil && *msg.IsFinished) {
			if c.Ending() {
				return
			}
			evs := s.dec.Feed(pcm.S16LE(block))
			block = nil
			if !s.emit(evs) || !s.end(msg.IsEnd) {
				return
			}
		}
		// neither server closes after the final: the client does
	}
}

// emit sends what the decoder found in one block of audio.
func (s *session) emit(evs []tone.Event) bool {
	for _, e := range evs {
		var ok bool
		if e.Final {
			ok = s.sentence(e.Words, false)
		} else {
			ok = s.partial(e.Words)
		}
		if !ok {
			return false
		}
	}
	return true
}

// partial sends an online result: only the newest word (the servers send deltas).
func (s *session) partial(ws []tone.Word) bool {
	delta := ws[len(ws)-1].Text
	if len(ws) > 1 || (s.m == CPP && s.mode == "online" && s.said) {
		// the C++ online-mode server knows no sentences: its text runs on (l.99-121)
		delta = " " + delta
	}
	s.said = true
	switch s.m {
	case Python:
		if s.mode == "online" {
			// the streaming model's last chunk of a sentence carries is_final (l.824):
			// hold the newest word back for it
			out := s.held
			s.held = delta
			return out == "" || s.send(map[string]any{"mode": "online", "text": out, "is_final": false})
		}
		return s.send(map[string]any{"mode": "2pass-online", "text": delta, "is_final": false})
	case CPPLegacy:
		return s.send(map[string]any{"mode": "2pass-online", "text": delta, "is_final": false})
	}
	r := map[string]any{"mode": "2pass-online", "text": delta, "is_final": false, "timestamp": s.epoch,
		"slice_type": 1, "index": s.index}
	if !s.started {
		r["slice_type"], s.started = 0, true
	}
	return s.send(r)
}

// sentence sends a sentence's end, as each server does (or does not).
func (s *session) sentence(ws []tone.Word, last bool) bool {
	text := tone.Join(ws)
	switch {
	case s.m == Python && s.mode == "online":
		out := s.held
		s.held = ""
		return s.send(map[string]any{"mode": "online", "text": out, "is_final": true})
	case s.m == Python:
		s.pending = false
		return s.send(map[string]any{"mode": "2pass-offline", "text": text, "is_final": true,
			"spk_name": "unknown", "spk_score": 0.0, "timestamp": stampList(ws)})
	case s.m == CPPLegacy:
		return s.send(map[string]any{"mode": "2pass-offline", "text": text, "is_final": last, "timestamp": stamps(ws)})
	case s.mode == "online":
		return true // l.99: the online-mode server keeps the sentence to itself
	}
	r := map[string]any{"mode": "2pass-offline", "text": text, "is_final": last, "timestamp": stamps(ws),
		"slice_type": 2, "index": s.index, "start_time": ws[0].Start.Milliseconds(), "end_time": ws[len(ws)-1].End.Milliseconds()}
	s.index++
	s.started = false
	return s.send(r)
}

// end answers the end of the audio.
func (s *session) end(ack bool) bool {
	evs := s.dec.Flush()
	if s.m == Python {
		for _, e := range evs {
			if e.Final && !s.sentence(e.Words, true) {
				return false
			}
		}
		if s.pending && s.mode != "online" {
			// the offline pass over audio with no speech in it (l.787-796)
			if !s.send(map[string]any{"mode": "2pass-offline", "text": "", "is_final": true, "spk_name": "unknown", "spk_score": 0.0}) {
				return false
			}
		}
		s.pending = false
		return !ack || s.send(map[string]any{"mode": s.mode, "is_final": true, "is_end": true})
	}
	// one is_final message, always (l.223-260); a sentence still open is its text
	for _, e := range evs {
		if e.Final && (s.mode != "online" || s.m == CPPLegacy) {
			return s.sentence(e.Words, true)
		}
	}
	r := map[string]any{"text": "", "is_final": true}
	if s.m == CPP {
		r["timestamp"] = s.epoch
	}
	return s.send(r)
}

// handshake reads and checks the first message, the configuration.
func handshake(c *standin.Session) (config, bool) {
	var cfg config
	typ, b, err := c.Read()
	if err != nil {
		return cfg, false
	}
	if typ != websocket.TextMessage {
		c.Violation("first message is binary: the config must come first")
		return cfg, false
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		c.Violation("config is not JSON: %v", err)
		return cfg, false
	}
	if msg := check(cfg); msg != "" {
		c.Violation("%s", msg)
		return cfg, false
	}
	return cfg, true
}

func check(cfg config) string {
	switch {
	case cfg.Mode == nil || (*cfg.Mode != "2pass" && *cfg.Mode != "online"):
		return "mode must be 2pass or online"
	case len(cfg.ChunkSize) != 3 || cfg.ChunkSize[1] == 0:
		// the real server never creates the online decoder and drops all audio silently
		return fmt.Sprintf("chunk_size %v: need exactly 3 ints with a non-zero middle", cfg.ChunkSize)
	case cfg.WavName == nil || *cfg.WavName == "":
		return "wav_name missing"
	case cfg.IsSpeaking == nil || !*cfg.IsSpeaking:
		return "is_speaking must be true in the config"
	case cfg.WavFormat != nil && *cfg.WavFormat != "pcm":
		return "real-time modes take wav_format pcm only"
	case cfg.AudioFS != nil && *cfg.AudioFS != 16000 && *cfg.AudioFS != 8000:
		return fmt.Sprintf("audio_fs %d unsupported", *cfg.AudioFS)
	case cfg.SVSLang != nil && !map[string]bool{"zh": true, "en": true, "yue": true, "ja": true, "ko": true, "auto": true}[*cfg.SVSLang]:
		return fmt.Sprintf("svs_lang %q: want zh, en, yue, ja, ko or auto", *cfg.SVSLang)
	}
	if len(cfg.Hotwords) > 0 {
		var s string
		if err := json.Unmarshal(cfg.Hotwords, &s); err != nil {
			return "hotwords must be a string holding JSON, got " + string(cfg.Hotwords)
		}
		var hw map[string]float64
		if err := json.Unmarshal([]byte(s), &hw); err != nil {
			return fmt.Sprintf("hotwords string is not a JSON object of weights: %q", s)
		}
	}
	return ""
}

// stampList is the Python server's timestamp: the list itself.
func stampList(ws []tone.Word) [][2]int64 {
	out := make([][2]int64, len(ws))
	for i, w := range ws {
		out[i] = [2]int64{w.Start.Milliseconds(), w.End.Milliseconds()}
	}
	return out
}

// stamps renders word times as the server does: a string of [[start_ms,end_ms]…].
func stamps(ws []tone.Word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("[%d,%d]", w.Start.Milliseconds(), w.End.Milliseconds())
	}
	return "[" + strings.Join(parts, ",") + "]"
}
