// Package funasrtest is a stand-in FunASR runtime server (2pass WebSocket protocol) for
// tests: it enforces the protocol's traps — the first message must be a JSON config with
// a 3-int chunk_size whose middle value is non-zero, hotwords must be a string holding a
// JSON object, audio must be whole PCM16 samples — and recognises tone words (package
// tone) instead of speech. It is a stand-in, not FunASR.
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

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in on 127.0.0.1.
func New() *Server {
	return &Server{standin.New("funasr", serve, nil)}
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
}

type reply struct {
	Mode      string `json:"mode"`
	WavName   string `json:"wav_name"`
	Text      string `json:"text"`
	IsFinal   bool   `json:"is_final"`
	Timestamp any    `json:"timestamp,omitempty"`
}

func serve(c *standin.Session) {
	cfg, ok := handshake(c)
	if !ok {
		return
	}
	rate := 16000
	if cfg.AudioFS != nil {
		rate = *cfg.AudioFS
	}
	name := *cfg.WavName
	dec := tone.NewDecoder(rate)
	send := func(r reply) bool {
		r.WavName = name
		b, _ := json.Marshal(r)
		return c.Send(b) == nil
	}
	emit := func(evs []tone.Event) bool {
		for _, e := range evs {
			if e.Final {
				if !send(reply{Mode: "2pass-offline", Text: tone.Join(e.Words), Timestamp: stamps(e.Words)}) {
					return false
				}
				continue
			}
			// online results are deltas: only the newest word
			delta := e.Words[len(e.Words)-1].Text
			if len(e.Words) > 1 {
				delta = " " + delta
			}
			if !send(reply{Mode: "2pass-online", Text: delta}) {
				return false
			}
		}
		return true
	}
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
			s := pcm.S16LE(b)
			if c.Heard(pcm.Duration(len(s), rate)) {
				return
			}
			if !emit(dec.Feed(s)) {
				return
			}
			continue
		}
		var m struct {
			IsSpeaking *bool `json:"is_speaking"`
			IsFinished *bool `json:"is_finished"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			// the real server marks the connection EOF and silently ignores the rest
			c.Violation("malformed JSON %.60q", b)
			return
		}
		if (m.IsSpeaking != nil && !*m.IsSpeaking) || (m.IsFinished != nil && *m.IsFinished) {
			// one is_final message carries the last sentence (possibly empty); newer
			// servers put the connection's start epoch (an int) in timestamp when there
			// are no stamps — the adapter must cope
			var last reply
			last = reply{Mode: "2pass-offline", IsFinal: true, Timestamp: 1764264000000}
			for _, e := range dec.Flush() {
				if e.Final {
					last.Text, last.Timestamp = tone.Join(e.Words), stamps(e.Words)
				}
			}
			if !send(last) {
				return
			}
		}
		// the server does not close after the final: the client does
	}
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

// stamps renders word times as the server does: a string of [[start_ms,end_ms]…].
func stamps(ws []tone.Word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("[%d,%d]", w.Start.Milliseconds(), w.End.Milliseconds())
	}
	return "[" + strings.Join(parts, ",") + "]"
}
