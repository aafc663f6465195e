// Package sherpatest is a stand-in sherpa-onnx C++ streaming WebSocket server for tests:
// binary messages must be float32 samples in [-1, 1] (PCM16 bytes read as float32 are
// flagged), at the model's 16 kHz (audio at another rate decodes to the wrong words); text
// other than "Done" is a violation. It answers each audio message with the current result,
// marks endpoints with is_final, and answers "Done" with an is_eof result and "Done!". It
// recognises tone words (package tone); it is a stand-in, not sherpa-onnx.
package sherpatest

import (
	"encoding/json"
	"math"

	"github.com/gorilla/websocket"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Rate is the model rate the stand-in assumes, as the real server does.
const Rate = 16000

// Server is the stand-in.
type Server struct {
	*standin.Server
}

// New starts a stand-in on 127.0.0.1.
func New() *Server { return &Server{standin.New("sherpa", serve, nil)} }

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
	dec      *tone.Decoder
	segment  int
	segStart float64 // seconds
	heard    int     // samples
	words    []tone.Word
}

func serve(c *standin.Session) {
	s := &session{c: c, dec: tone.NewDecoder(Rate)}
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
			s.done()
			return
		}
		samples, ok := floats(b)
		if !ok {
			c.Violation("binary message of %d bytes is not float32 samples in [-1, 1] (PCM16 sent as is?)", len(b))
			return
		}
		s.heard += len(samples)
		if c.Heard(pcm.Duration(len(samples), Rate)) {
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

func (s *session) done() {
	for _, e := range s.dec.Flush() {
		s.words = e.Words
	}
	if s.send(s.result(true, true)) {
		_ = s.c.Send([]byte("Done!"))
	}
}

func (s *session) send(r result) bool {
	b, _ := json.Marshal(r)
	return s.c.Send(b) == nil
}
