// Package vosktest is a stand-in Vosk server for tests. It follows the Python reference
// server (websocket/asr_server.py): a text message containing "config" configures (before
// any audio), binary messages are PCM16 at the configured rate and each gets exactly one
// reply, `{"eof" : 1}` — byte for byte — flushes and ends the session, `{"reset" : 1}`
// flushes and goes on. Any other text would be fed to the recogniser as audio by the real
// server; here it is a violation. It recognises tone words (package tone), not speech.
package vosktest

import (
	"encoding/json"
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

// New starts a stand-in on 127.0.0.1 with the reference server's default rate (8 kHz).
func New() *Server { return &Server{standin.New("vosk", serve, nil)} }

// URL is the address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/") }

type word struct {
	Conf  float64 `json:"conf"`
	End   float64 `json:"end"`
	Start float64 `json:"start"`
	Word  string  `json:"word"`
}

type session struct {
	c       *standin.Session
	rate    int
	words   bool
	dec     *tone.Decoder
	partial []tone.Word
	audio   bool
}

func serve(c *standin.Session) {
	s := &session{c: c, rate: 8000}
	for {
		typ, b, err := c.Read()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			if !s.audioMsg(b) {
				return
			}
			continue
		}
		msg := string(b)
		switch {
		case msg == `{"eof" : 1}`:
			s.reply(s.finalMsg(s.flush()))
			_ = c.WS.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			return
		case msg == `{"reset" : 1}`:
			s.reply(s.finalMsg(s.flush()))
		case strings.Contains(msg, "config"):
			if !s.config(b) {
				return
			}
		default:
			c.Violation("text message %.40q is not byte-exact {\"eof\" : 1}: the server would feed it to the recogniser as audio", msg)
			return
		}
	}
}

func (s *session) config(b []byte) bool {
	if s.audio {
		s.c.Violation("config after audio: the recogniser already exists and ignores it")
		return false
	}
	var m struct {
		Config *struct {
			SampleRate *float64 `json:"sample_rate"`
			Words      bool     `json:"words"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Config == nil {
		s.c.Violation("config message is not {\"config\": {...}}: %.60q", b)
		return false
	}
	if m.Config.SampleRate != nil {
		s.rate = int(*m.Config.SampleRate)
		if s.rate < 8000 || s.rate > 48000 {
			s.c.Violation("sample_rate %v out of range", *m.Config.SampleRate)
			return false
		}
	}
	s.words = m.Config.Words
	return true
}

func (s *session) audioMsg(b []byte) bool {
	if len(b)%2 != 0 {
		s.c.Violation("audio message of %d bytes is not whole PCM16 samples", len(b))
		return false
	}
	if s.dec == nil {
		s.dec = tone.NewDecoder(s.rate)
	}
	s.audio = true
	samples := pcm.S16LE(b)
	if s.c.Heard(pcm.Duration(len(samples), s.rate)) {
		return false
	}
	// lock-step: one reply per message; an endpoint inside it makes the reply the final
	var final []tone.Word
	for _, e := range s.dec.Feed(samples) {
		if e.Final {
			final, s.partial = e.Words, nil
		} else {
			s.partial = e.Words
		}
	}
	if final != nil {
		return s.reply(s.finalMsg(final))
	}
	b, _ = json.Marshal(map[string]string{"partial": tone.Join(s.partial)})
	return s.reply(b)
}

func (s *session) flush() []tone.Word {
	if s.dec == nil {
		return nil
	}
	var out []tone.Word
	for _, e := range s.dec.Flush() {
		if e.Final {
			out = e.Words
		}
	}
	s.partial = nil
	return out
}

func (s *session) finalMsg(ws []tone.Word) []byte {
	if len(ws) == 0 {
		return []byte(`{"text" : ""}`)
	}
	m := map[string]any{"text": tone.Join(ws)}
	if s.words {
		res := make([]word, len(ws))
		for i, w := range ws {
			res[i] = word{Conf: 1, Start: w.Start.Seconds(), End: w.End.Seconds(), Word: w.Text}
		}
		m["result"] = res
	}
	b, _ := json.MarshalIndent(m, "", "  ") // the server pretty-prints
	return b
}

func (s *session) reply(b []byte) bool { return s.c.Send(b) == nil }
