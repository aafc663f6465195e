// Package vosktest is a stand-in Vosk server for tests. By default it follows the Python
// reference server (alphacep/vosk-server @ c2e82f0, websocket/asr_server.py): a text
// message containing "config" configures (before any audio), binary messages are PCM16 at
// the configured rate and each gets exactly one reply, `{"eof" : 1}` — byte for byte —
// flushes and ends the session, `{"reset" : 1}` flushes and goes on. Any other text would
// be fed to the recogniser as audio by the real server; here it is a violation.
// Options.CPP copies websocket-cpp/asr_server.cpp instead, quirks included. It recognises
// tone words (package tone), not speech.
package vosktest

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// EOF is the only end of stream both servers know.
const EOF = `{"eof" : 1}`

// finalDelay is how much longer the final takes than a partial on the C++ server.
const finalDelay = 50 * time.Millisecond

// Options choose the server copied and its environment.
type Options struct {
	// CPP copies websocket-cpp/asr_server.cpp: no config handling (every message not
	// recognised as the end of stream is audio and is answered, the config included,
	// l.138-150, 177-182), the end of stream recognised by strcmp on a reused buffer
	// with no terminating zero (l.140, 197), and after the final the connection stays
	// open until the client's next message (l.168-172).
	CPP bool
	// Rate is VOSK_SAMPLE_RATE (8000); the Python server takes the config's instead.
	Rate int
	// Alternatives is VOSK_ALTERNATIVES: the C++ Docker image
	// (docker/Dockerfile.kaldi-vosk-server-beast) sets 1. The Python server lets the
	// config's max_alternatives override it (asr_server.py l.55-56).
	Alternatives int
	// NoWords is VOSK_SHOW_WORDS=False, as in the C++ image (l.322: only "True" is true);
	// the Python server's bool(str) is always true (l.99), its config may override.
	NoWords bool
	// Lexicon spells tone words as a model would, e.g. as Chinese words: Vosk's Chinese
	// models answer "你好 我 要", words separated by spaces.
	Lexicon map[string]string
}

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in of the Python server on 127.0.0.1 with its default rate (8 kHz).
func New() *Server { return NewWith(Options{}) }

// NewWith starts a stand-in of the server and environment o describes.
func NewWith(o Options) *Server {
	if o.Rate == 0 {
		o.Rate = 8000
	}
	name := "vosk-python"
	if o.CPP {
		name = "vosk-cpp"
	}
	return &Server{standin.New(name, func(c *standin.Session) { serve(c, o) }, nil)}
}

// URL is the address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/") }

type word struct {
	Conf  *float64 `json:"conf,omitempty"`
	End   float64  `json:"end"`
	Start float64  `json:"start"`
	Word  string   `json:"word"`
}

type session struct {
	c       *standin.Session
	o       Options
	rate    int
	words   bool
	alts    int
	dec     *tone.Decoder
	partial []tone.Word
	audio   bool
	mem     []byte // the C++ server's reused read buffer
}

func serve(c *standin.Session, o Options) {
	s := &session{c: c, o: o, rate: o.Rate, words: !o.NoWords || !o.CPP, alts: o.Alternatives}
	if o.CPP {
		s.serveCPP()
		return
	}
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
		case msg == EOF:
			if c.Ending() {
				return
			}
			s.reply(s.finalMsg(s.flush()))
			// the handler breaks out and returns: websockets closes with 1000 (l.73)
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

// serveCPP is websocket-cpp/asr_server.cpp's session (l.130-200).
func (s *session) serveCPP() {
	stop := false
	for {
		_, b, err := s.c.Read()
		if err != nil {
			return
		}
		if stop {
			// l.168-172: the message after the final closes the connection
			_ = s.c.WS.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			return
		}
		// the message lands at the start of the buffer; what lies beyond it is what the
		// previous, longer messages left there (flat_buffer::consume, l.197)
		if len(b) > len(s.mem) {
			grown := bytes.Repeat([]byte{0xa5}, len(b)) // fresh memory is not zeroed
			copy(grown, s.mem)
			s.mem = grown
		}
		copy(s.mem, b)
		if strcmpEOF(s.mem, len(b)) {
			if s.c.Ending() {
				return
			}
			// FinalResult decodes the whole lattice: the slowest reply of a session
			time.Sleep(finalDelay)
			s.reply(s.finalMsg(s.flush()))
			stop = true
			continue
		}
		// anything else is audio, the config included (l.144): len/2 samples
		if !s.audioMsg(b[:len(b)/2*2]) {
			return
		}
	}
}

// strcmpEOF is strcmp(buf, EOF) == 0 where the message is n bytes long: the byte after
// EOF must be zero, and past the message it is whatever the buffer held.
func strcmpEOF(mem []byte, n int) bool {
	if n < len(EOF) || string(mem[:len(EOF)]) != EOF {
		return false
	}
	return len(mem) > len(EOF) && mem[len(EOF)] == 0
}

func (s *session) config(b []byte) bool {
	if s.audio {
		s.c.Violation("config after audio: the recogniser already exists and ignores it")
		return false
	}
	var m struct {
		Config *struct {
			SampleRate      *float64 `json:"sample_rate"`
			Words           *bool    `json:"words"`
			MaxAlternatives *int     `json:"max_alternatives"`
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
	if m.Config.Words != nil {
		s.words = *m.Config.Words
	}
	if m.Config.MaxAlternatives != nil {
		s.alts = *m.Config.MaxAlternatives
	}
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
	if s.c.Hear(samples, s.rate) {
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
	return s.reply(vosk(map[string]any{"partial": s.join(s.partial)}))
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

// finalMsg is vosk-api's Result/FinalResult (src/recognizer.cc @ 9adbd76): with
// alternatives, NbestResult (l.641-713), whose words have no conf; an empty one is
// StoreEmptyReturn (l.962-976).
func (s *session) finalMsg(ws []tone.Word) []byte {
	if len(ws) == 0 {
		if s.alts > 0 {
			return []byte(`{"alternatives" : [{"text": "", "confidence" : 1.0}] }`)
		}
		return []byte(`{"text": ""}`)
	}
	var res []word
	if s.words {
		res = make([]word, len(ws))
		for i, w := range ws {
			res[i] = word{Start: w.Start.Seconds(), End: w.End.Seconds(), Word: s.spell(w.Text)}
			if s.alts == 0 {
				one := 1.0
				res[i].Conf = &one
			}
		}
	}
	if s.alts > 0 {
		alt := map[string]any{"text": s.join(ws), "confidence": 231.7}
		if res != nil {
			alt["result"] = res
		}
		return vosk(map[string]any{"alternatives": []any{alt}})
	}
	m := map[string]any{"text": s.join(ws)}
	if res != nil {
		m["result"] = res
	}
	return vosk(m)
}

func (s *session) spell(w string) string {
	if v, ok := s.o.Lexicon[w]; ok {
		return v
	}
	return w
}

// join is the recogniser's text: words separated by spaces, whatever the language.
func (s *session) join(ws []tone.Word) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = s.spell(w.Text)
	}
	return strings.Join(out, " ")
}

// vosk renders JSON as vosk-api's json.h does: pretty-printed, " : " after keys.
func vosk(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return bytes.ReplaceAll(b, []byte(`": `), []byte(`" : `))
}

func (s *session) reply(b []byte) bool { return s.c.Send(b) == nil }
