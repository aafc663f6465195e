// Package openaitest holds stand-ins for the OpenAI-compatible transcription APIs: the
// HTTP endpoint POST /v1/audio/transcriptions and the Realtime transcription WebSocket.
// The HTTP stand-in answers as one of four real servers (Dialect), each written from its
// source or its published behaviour; all recognise tone words (package tone) instead of
// speech. They are stand-ins, not OpenAI.
package openaitest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"lianxin/asr/asrtest/standin"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/internal/pcm"
)

// Dialect is the server an HTTPServer answers as.
type Dialect int

// Dialects.
const (
	// OpenAI is api.openai.com: a bearer key, models by name (unknown: 404
	// model_not_found), gpt-4o-*-transcribe refusing verbose_json with 400
	// unsupported_value, ISO-639-1 languages, verbose_json words at the top level.
	OpenAI Dialect = iota
	// WhisperCPP is whisper.cpp's examples/server: POST /inference, no key, the model
	// field ignored, English unless the request names a language, word times nested in
	// segments, one request at a time, text/plain 404s.
	WhisperCPP
	// Speaches is speaches-ai/speaches: models installed locally (404 for others),
	// timestamp granularities accepted without verbose_json, a model whose executor
	// takes json and text only failing verbose_json with a 500.
	Speaches
	// VLLM is vLLM's OpenAI server: one served model name (404 NotFoundError for
	// others), verbose_json only for models with segment timestamps (400 otherwise) and
	// then without word times, duration as a string.
	VLLM
)

// String names the dialect.
func (d Dialect) String() string {
	return [...]string{"openai", "whisper.cpp", "speaches", "vllm"}[d]
}

// HTTPOptions configure an HTTPServer.
type HTTPOptions struct {
	Dialect Dialect
	// Key is the bearer token demanded ("" none; whisper.cpp's server takes none).
	Key string
	// Models are the models served (each dialect has a default); whisper.cpp ignores
	// the field.
	Models []string
	// JSONOnly are models that refuse verbose_json (OpenAI's gpt-4o transcribe models,
	// speaches' parakeet executor, a vLLM model without segment timestamps).
	JSONOnly []string
	// EnglishOnly is a whisper.cpp server running an English-only model (ggml-*.en.bin):
	// it answers in English whatever language it is asked for.
	EnglishOnly bool
}

// HTTPServer is the stand-in transcription endpoint.
type HTTPServer struct {
	o    HTTPOptions
	hs   *httptest.Server
	hang chan struct{}
	one  sync.Mutex // whisper.cpp serves one request at a time

	mu         sync.Mutex
	plans      []standin.Plan
	requests   int
	violations []string
	languages  []string
	received   standin.Audio
}

// NewHTTP starts an OpenAI stand-in; key, when set, is the bearer token it demands.
func NewHTTP(key string) *HTTPServer { return NewHTTPWith(HTTPOptions{Key: key}) }

// NewHTTPWith starts a stand-in as o says.
func NewHTTPWith(o HTTPOptions) *HTTPServer {
	if o.Models == nil {
		o.Models = map[Dialect][]string{
			OpenAI: {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"},
			// speaches: the ids models are installed under (Hugging Face repositories)
			Speaches: {"Systran/faster-whisper-small", "istupakov/parakeet-tdt-0.6b-v2-onnx"},
			// vLLM: --served-model-name, else the model path
			VLLM: {"openai/whisper-large-v3"},
		}[o.Dialect]
	}
	if o.JSONOnly == nil {
		o.JSONOnly = map[Dialect][]string{
			OpenAI:   {"gpt-4o-transcribe", "gpt-4o-mini-transcribe"},
			Speaches: {"istupakov/parakeet-tdt-0.6b-v2-onnx"},
		}[o.Dialect]
	}
	s := &HTTPServer{o: o, hang: make(chan struct{})}
	mux := http.NewServeMux()
	switch o.Dialect {
	case WhisperCPP:
		// server.cpp l.62, 826: POST <request path><inference path>, /inference by default
		mux.HandleFunc("POST /inference", s.transcribe)
		// l.1215-1224: 200 {"status":"ok"} once the model is loaded
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok"}`)
		})
	default:
		mux.HandleFunc("POST /v1/audio/transcriptions", s.transcribe)
		mux.HandleFunc("GET /v1/models", s.listModels)
		if o.Dialect != VLLM {
			mux.HandleFunc("GET /v1/models/{id...}", s.getModel)
		}
	}
	s.hs = httptest.NewServer(s.notFound(mux))
	return s
}

// URL is the API base to configure the adapter with: …/v1, or the server's root for
// whisper.cpp (whose endpoint is path /inference).
func (s *HTTPServer) URL() string {
	if s.o.Dialect == WhisperCPP {
		return s.hs.URL
	}
	return s.hs.URL + "/v1"
}

// Languages are the language fields of the requests, in order ("" where absent).
func (s *HTTPServer) Languages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.languages...)
}

// Received is the audio of the latest request, at the rate its WAV declared.
func (s *HTTPServer) Received() standin.Audio {
	s.mu.Lock()
	defer s.mu.Unlock()
	return standin.Audio{Samples: append([]int16(nil), s.received.Samples...), Rate: s.received.Rate}
}

// Fail makes the next requests that carry sound fail, one plan per request (After is
// ignored): Drop, CloseEarly and NoFinal cut the connection, Garbage answers 200 with a
// body that is not JSON, Hang never answers.
func (s *HTTPServer) Fail(p ...standin.Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans = append(s.plans, p...)
}

// Requests counts transcription requests (the engine's start-up check included).
func (s *HTTPServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Violations are the requests the server refused, in order.
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

func (s *HTTPServer) violate(format string, a ...any) string {
	msg := fmt.Sprintf(format, a...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	return msg
}

// notFound answers paths no route takes as each server does.
func (s *HTTPServer) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		s.violate("no route %s %s", r.Method, r.URL.Path)
		switch s.o.Dialect {
		case WhisperCPP:
			// server.cpp l.1240-1246: the error handler's plain text
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, "File Not Found (%s)", r.URL.Path)
		case OpenAI:
			writeJSON(w, http.StatusNotFound, openAIError("Invalid URL ("+r.Method+" "+r.URL.Path+")", "invalid_request_error", "", ""))
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		}
	})
}

func (s *HTTPServer) transcribe(w http.ResponseWriter, r *http.Request) {
	if s.o.Dialect == WhisperCPP {
		s.one.Lock() // server.cpp l.827-828: whisper_mutex around each request
		defer s.one.Unlock()
	}
	if !s.authorised(w, r) {
		return
	}
	if err := r.ParseMultipartForm(25 << 20); err != nil {
		if r.Context().Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return // the client went away mid-request (a cancelled stream): no violation
		}
		s.refuse(w, http.StatusBadRequest, "not multipart/form-data: %v", err)
		return
	}
	req, ok := s.read(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.requests++
	s.languages = append(s.languages, r.FormValue("language"))
	var plan standin.Plan
	if len(s.plans) > 0 && !silent(req.samples) {
		// planned faults are for utterances: the engine's start-up check (a second of
		// silence) is answered, so that a fault lands where a test aims it
		plan, s.plans = s.plans[0], s.plans[1:]
	}
	s.mu.Unlock()
	if s.fault(w, r, plan.Fault) {
		return
	}
	switch s.o.Dialect {
	case WhisperCPP:
		s.whisperCPP(w, req)
	case Speaches:
		s.speaches(w, req)
	case VLLM:
		s.vllm(w, req)
	default:
		s.openAI(w, req)
	}
}

// request is a transcription request as the servers read it.
type request struct {
	form        map[string][]string
	model       string
	format      string // response_format ("" absent)
	language    string
	granularity []string
	samples     []int16
	rate        int
	words       []tone.Word
}

func (q request) has(field string) bool { _, ok := q.form[field]; return ok }

// read takes the file (a mono PCM16 WAV at any rate: every server decodes and resamples
// it) and the fields, and "recognises" the audio.
func (s *HTTPServer) read(w http.ResponseWriter, r *http.Request) (request, bool) {
	q := request{form: r.MultipartForm.Value, model: r.FormValue("model"), format: r.FormValue("response_format"),
		language: r.FormValue("language"), granularity: r.MultipartForm.Value["timestamp_granularities[]"]}
	f, _, err := r.FormFile("file")
	if err != nil {
		// server.cpp l.831-837 for whisper.cpp; a missing field for the others
		s.refuse(w, http.StatusBadRequest, "no 'file' field in the request")
		return q, false
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	q.samples, q.rate, err = readWAV(b)
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "failed to read audio data: %v", err)
		return q, false
	}
	s.mu.Lock()
	s.received = standin.Audio{Samples: q.samples, Rate: q.rate}
	s.mu.Unlock()
	q.words = recognise(q.samples, q.rate)
	return q, true
}

func (s *HTTPServer) authorised(w http.ResponseWriter, r *http.Request) bool {
	if s.o.Key == "" || s.o.Dialect == WhisperCPP || r.Header.Get("Authorization") == "Bearer "+s.o.Key {
		return true
	}
	msg := s.violate("missing or wrong bearer token")
	switch s.o.Dialect {
	case Speaches:
		// dependencies.py l.63-79: 403, not 401
		writeJSON(w, http.StatusForbidden, map[string]any{"detail": "Invalid API key."})
	case VLLM:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
	default:
		writeJSON(w, http.StatusUnauthorized, openAIError("Incorrect API key provided: "+msg, "invalid_request_error", "", "invalid_api_key"))
	}
	return false
}

// refuse answers a bad request in the dialect's error shape.
func (s *HTTPServer) refuse(w http.ResponseWriter, code int, format string, a ...any) {
	msg := s.violate(format, a...)
	switch s.o.Dialect {
	case WhisperCPP:
		writeJSON(w, code, map[string]any{"error": msg})
	case Speaches:
		writeJSON(w, code, map[string]any{"detail": msg})
	case VLLM:
		writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": "BadRequestError", "param": nil, "code": code}})
	default:
		writeJSON(w, code, openAIError(msg, "invalid_request_error", "", ""))
	}
}

func (s *HTTPServer) fault(w http.ResponseWriter, r *http.Request, f standin.Fault) bool {
	switch f {
	case standin.Drop, standin.CloseEarly, standin.NoFinal:
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

func (s *HTTPServer) serves(model string) bool { return contains(s.o.Models, model) }

func (s *HTTPServer) jsonOnly(model string) bool { return contains(s.o.JSONOnly, model) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// listModels is GET /v1/models: {"object":"list","data":[{"id",…}]} on all three.
func (s *HTTPServer) listModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorised(w, r) {
		return
	}
	data := make([]map[string]any, len(s.o.Models))
	for i, m := range s.o.Models {
		data[i] = map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": s.o.Dialect.String()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// getModel is GET /v1/models/{id} (OpenAI, speaches routers/models.py l.71-79).
func (s *HTTPServer) getModel(w http.ResponseWriter, r *http.Request) {
	if !s.authorised(w, r) {
		return
	}
	id := r.PathValue("id")
	if !s.serves(id) {
		if s.o.Dialect == Speaches {
			writeJSON(w, http.StatusNotFound, map[string]any{"detail": fmt.Sprintf("Model '%s' not found", id)})
			return
		}
		writeJSON(w, http.StatusNotFound, openAIError(fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", id), "invalid_request_error", "", "model_not_found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "model", "created": 1700000000, "owned_by": s.o.Dialect.String()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func openAIError(msg, typ, param, code string) map[string]any {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if param != "" {
		e["param"] = param
	}
	if code != "" {
		e["code"] = code
	}
	return map[string]any{"error": e}
}

// recognise "transcribes" an utterance: its tone words, utterance by utterance.
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

// segments groups words into the utterances the decoder found (a segment each).
func segments(samples []int16, rate int) [][]tone.Word {
	d := tone.NewDecoder(rate)
	var out [][]tone.Word
	for _, e := range append(d.Feed(samples), d.Flush()...) {
		if e.Final {
			out = append(out, e.Words)
		}
	}
	return out
}

func silent(s []int16) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
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
			if rate < 8000 {
				return nil, 0, fmt.Errorf("sample rate %d", rate)
			}
			return pcm.S16LE(body), rate, nil
		}
		p += 8 + n + n%2
	}
	return nil, 0, fmt.Errorf("no data chunk")
}

// fullName is whisper's name for a language code (whisper_lang_str_full), for the codes
// a hotline meets; others pass through.
func fullName(code string) string {
	if n, ok := map[string]string{"en": "english", "zh": "chinese", "yue": "cantonese", "ja": "japanese", "ko": "korean"}[code]; ok {
		return n
	}
	return strings.ToLower(code)
}
