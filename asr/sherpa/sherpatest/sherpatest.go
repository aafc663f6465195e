// Package sherpatest is a stand-in sherpa-onnx streaming WebSocket server for tests:
// binary messages must be float32 samples in [-1, 1] (PCM16 bytes read as float32 are
// flagged), at the model's 16 kHz (audio at another rate decodes to the wrong words); text
// other than "Done" is a violation. It answers each audio message with the current result.
// Its modes copy the real servers' results and endings (see Mode). It recognises tone
// words (package tone); it is a stand-in, not sherpa-onnx.
package sherpatest

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Rate is the model rate the stand-in assumes, as the real server does.
const Rate = 16000

// Mode is the real server a stand-in copies. File and line references are to
// k2-fsa/sherpa-onnx @ 634265c (2026-08-08).
type Mode int

// Modes.
const (
	// CPP is sherpa-onnx/csrc/online-websocket-server-impl.cc: results as
	// OnlineRecognizerResult::AsJsonString (online-recognizer.cc l.68-85), is_final at
	// an endpoint (l.210-213), the last result with is_final and is_eof (l.215-219),
	// then "Done!" (l.144-147); the server does not close.
	CPP Mode = iota
	// CPPDoneFirst is the same server when "Done!", sent from the work context
	// (l.146-147), overtakes the last result, sent from the connection context
	// (l.221-223).
	CPPDoneFirst
	// Python is python-api-examples/streaming_server.py: {"text","segment"} only, the
	// result at an endpoint still carrying the old segment number (l.750-763); after
	// "Done" 0.3 s of tail padding, one last result (l.765-778), and the handler returns,
	// which closes the connection with 1000. No "Done!".
	Python
)

// overtake is by how much "Done!" overtakes the last result in CPPDoneFirst: the
// connection context is busy sending other connections' results.
const overtake = 50 * time.Millisecond

// String names the mode.
func (m Mode) String() string { return [...]string{"cpp", "cpp-done-first", "python"}[m] }

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in of the C++ server on 127.0.0.1.
func New() *Server { return NewMode(CPP) }

// NewMode starts a stand-in copying the server m.
func NewMode(m Mode) *Server {
	return &Server{standin.New("sherpa-"+m.String(), func(c *standin.Session) { serve(c, m) }, nil)}
}

// URL is the address to configure the adapter with.
func (s *Server) URL() string { return s.Server.URL("/") }

type result struct {
	Text       string    `json:"text"`
	Tokens     []string  `json:"tokens"`
	Timestamps []float64 `json:"timestamps"`
	YsProbs    []float64 `json:"ys_probs"`
	LmProbs    []float64 `json:"lm_probs"`
	Context    []float64 `json:"context_scores"`
	Segment    int       `json:"segment"`
	Words      []string  `json:"words"`
	StartTime  float64   `json:"start_time"`
	IsFinal    bool      `json:"is_final"`
	IsEOF      bool      `json:"is_eof"`
}

type session struct {
	c        *standin.Session
	m        Mode
	dec      *tone.Decoder
	segment  int
	segStart float64 // seconds
	heard    int     // samples
	words    []tone.Word
}

func serve(c *standin.Session, m Mode) {
	s := &session{c: c, m: m, dec: tone.NewDecoder(Rate)}
	for {
		typ, b, err := c.Read()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			if string(b) != "Done" {
				c.Violation("text message %.40q: the server takes only \"Done\"", b)
				return
			}
			if c.Ending() || !s.done() || m == Python {
				return
			}
			continue // the C++ server leaves the closing to the client
		}
		samples, ok := floats(b)
		if !ok {
			c.Violation("binary message of %d bytes is not float32 samples in [-1, 1] (PCM16 sent as is?)", len(b))
			return
		}
		s.heard += len(samples)
		if c.Hear(samples, Rate) {
			return
		}
		final := false
		for _, e := range s.dec.Feed(samples) {
			s.words = e.Words
			if e.Final {
				final = true
				if !s.send(s.result(true, false)) {
					return
				}
				s.endpoint()
			}
		}
		if !final && !s.send(s.result(false, false)) {
			return
		}
	}
}

func floats(b []byte) ([]int16, bool) {
	if len(b)%4 != 0 {
		return nil, false
	}
	s, ok := pcm.F32LE(b)
	if !ok {
		return nil, false
	}
	for i := 0; i+3 < len(b); i += 4 {
		f := math.Float32frombits(uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24)
		if f > 1.0001 || f < -1.0001 {
			return nil, false
		}
	}
	return s, true
}

// endpoint starts a new segment; the number advances only past a non-empty one.
func (s *session) endpoint() {
	if len(s.words) > 0 {
		s.segment++
	}
	s.words = nil
	s.segStart = float64(s.heard) / Rate
}

func (s *session) result(final, eof bool) result {
	r := result{Text: tone.Join(s.words), Segment: s.segment, StartTime: s.segStart, IsFinal: final, IsEOF: eof,
		Tokens: []string{}, Timestamps: []float64{}, YsProbs: []float64{}, LmProbs: []float64{}, Context: []float64{}, Words: []string{}}
	for _, w := range s.words {
		r.Tokens = append(r.Tokens, w.Text)
		r.Timestamps = append(r.Timestamps, w.Start.Seconds()-s.segStart)
		r.YsProbs = append(r.YsProbs, -0.05)
	}
	return r
}

func (s *session) done() bool {
	// the tail padding flushes the last word (0.3 s Python, --end-tail-padding 0.8 s C++)
	for _, e := range s.dec.Flush() {
		s.words = e.Words
	}
	switch s.m {
	case Python:
		if !s.send(s.result(false, false)) {
			return false
		}
		return s.c.WS.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")) == nil
	case CPPDoneFirst:
		if s.c.Send([]byte("Done!")) != nil {
			return false
		}
		time.Sleep(overtake)
		return s.send(s.result(true, true))
	}
	return s.send(s.result(true, true)) && s.c.Send([]byte("Done!")) == nil
}

func (s *session) send(r result) bool {
	if s.m == Python {
		// json.dumps({"text": …, "segment": …}): that order, ASCII only
		text, _ := json.Marshal(r.Text)
		return s.c.Send([]byte(fmt.Sprintf(`{"text": %s, "segment": %d}`, asciiJSON(text), r.Segment))) == nil
	}
	b, _ := json.Marshal(r)
	return s.c.Send(b) == nil
}

// asciiJSON escapes non-ASCII as Python's json.dumps does by default.
func asciiJSON(b []byte) string {
	var out strings.Builder
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&out, "\\u%04x", r)
		}
	}
	return out.String()
}
