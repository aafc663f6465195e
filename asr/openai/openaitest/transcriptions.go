// Package openaitest holds stand-ins for the OpenAI-compatible transcription APIs: the
// HTTP endpoint POST /v1/audio/transcriptions and the Realtime transcription WebSocket.
// They check requests as strictly as the documented APIs (and whisper.cpp's server, the
// strictest implementation: 16 kHz WAV only) and recognise tone words (package tone)
// instead of speech. They are stand-ins, not OpenAI.
package openaitest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// HTTPServer is the stand-in transcription endpoint.
type HTTPServer struct {
	hs  *httptest.Server
	key string

	mu         sync.Mutex
	plans      []standin.Plan
	requests   int
	violations []string
	languages  []string
	hang       chan struct{}
}

// Languages are the language fields of the requests, in order ("" where absent).
func (s *HTTPServer) Languages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.languages...)
}

// NewHTTP starts the stand-in; key, when set, is the bearer token it demands.
func NewHTTP(key string) *HTTPServer {
	s := &HTTPServer{key: key, hang: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/audio/transcriptions", s.transcribe)
	s.hs = httptest.NewServer(mux)
	return s
}

// URL is the API base to configure the adapter with.
func (s *HTTPServer) URL() string { return s.hs.URL + "/v1" }

// Fail makes the next requests fail, one plan per request (After is ignored): Drop and
// CloseEarly cut the connection, Garbage answers 200 with a body that is not JSON, Hang
// never answers.
func (s *HTTPServer) Fail(p ...standin.Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans = append(s.plans, p...)
}

// Requests counts requests served.
func (s *HTTPServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Violations are the bad requests seen.
func (s *HTTPServer) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Close stops the server, releasing hung requests.
func (s *HTTPServer) Close() {
	close(s.hang)
	s.hs.CloseClientConnections()
	s.hs.Close()
}

func (s *HTTPServer) reject(w http.ResponseWriter, code int, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "type": "invalid_request_error"}})
}

var iso639 = regexp.MustCompile(`^[a-z]{2}$`)

func (s *HTTPServer) transcribe(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var plan standin.Plan
	if len(s.plans) > 0 {
		plan, s.plans = s.plans[0], s.plans[1:]
	}
	s.mu.Unlock()
	if s.fault(w, r, plan.Fault) {
		return
	}
	if s.key != "" && r.Header.Get("Authorization") != "Bearer "+s.key {
		s.reject(w, http.StatusUnauthorized, "missing or wrong bearer token")
		return
	}
	if err := r.ParseMultipartForm(25 << 20); err != nil {
		s.reject(w, http.StatusBadRequest, "not multipart/form-data: %v", err)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		s.reject(w, http.StatusBadRequest, "no 'file' field in the request")
		return
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	samples, rate, err := readWAV(b)
	if err != nil {
		s.reject(w, http.StatusBadRequest, "file: %v", err)
		return
	}
	format := r.FormValue("response_format")
	s.mu.Lock()
	s.languages = append(s.languages, r.FormValue("language"))
	s.mu.Unlock()
	switch {
	case r.FormValue("model") == "":
		s.reject(w, http.StatusBadRequest, "model is required")
		return
	case rate != 16000:
		s.reject(w, http.StatusBadRequest, "WAV at %d Hz: the server takes 16 kHz only", rate)
		return
	case r.Form.Has("language") && !iso639.MatchString(r.FormValue("language")):
		s.reject(w, http.StatusBadRequest, "language %q is not ISO-639-1", r.FormValue("language"))
		return
	case r.Form.Has("timestamp_granularities[]") && format != "verbose_json":
		s.reject(w, http.StatusBadRequest, "timestamp_granularities requires response_format verbose_json")
		return
	case format != "" && format != "json" && format != "verbose_json":
		s.reject(w, http.StatusBadRequest, "response_format %q not supported here", format)
		return
	}
	words := recognise(samples, rate)
	resp := map[string]any{"text": tone.Join(words)}
	if format == "verbose_json" {
		ws := make([]map[string]any, len(words))
		for i, w := range words {
			ws[i] = map[string]any{"word": w.Text, "start": w.Start.Seconds(), "end": w.End.Seconds()}
		}
		resp["words"], resp["language"], resp["duration"] = ws, "english", pcm.Duration(len(samples), rate).Seconds()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *HTTPServer) fault(w http.ResponseWriter, r *http.Request, f standin.Fault) bool {
	switch f {
	case standin.Drop, standin.CloseEarly:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
	case standin.Garbage:
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
	case standin.Hang:
		select {
		case <-r.Context().Done():
		case <-s.hang:
		}
	default:
		return false
	}
	return true
}

func recognise(samples []int16, rate int) []tone.Word {
	d := tone.NewDecoder(rate)
	var words []tone.Word
	for _, e := range append(d.Feed(samples), d.Flush()...) {
		if e.Final {
			words = append(words, e.Words...)
		}
	}
	return words
}

// readWAV accepts a canonical mono PCM16 WAV.
func readWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("not a RIFF/WAVE file")
	}
	var rate int
	var fmtOK bool
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if n > len(body) {
			return nil, 0, fmt.Errorf("chunk %q overruns the file", id)
		}
		body = body[:n]
		switch id {
		case "fmt ":
			if n < 16 {
				return nil, 0, fmt.Errorf("short fmt chunk")
			}
			af, ch, bits := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
			if af != 1 || ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("want mono 16-bit PCM, got format %d, %d channels, %d bits", af, ch, bits)
			}
			rate, fmtOK = int(binary.LittleEndian.Uint32(body[4:])), true
		case "data":
			if !fmtOK {
				return nil, 0, fmt.Errorf("data before fmt")
			}
			return pcm.S16LE(body), rate, nil
		}
		p += 8 + n + n%2
	}
	return nil, 0, fmt.Errorf("no data chunk")
}
