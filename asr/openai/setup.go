package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"lianxin/asr/segment"
)

// SetupError is a setting the server refuses: a model it does not serve, word times the
// model cannot give, a key it does not take, no transcription endpoint at the url, a
// language the model ignores. The engine finds it before any call (Check, or the first
// stream) and fails every stream with it until the configuration or the server changes.
type SetupError struct {
	// Problem says what is wrong, in the operator's words.
	Problem string
	// URL is the endpoint asked, Status and Body its answer (cut).
	URL    string
	Status int
	Body   string
	hint   string
}

// Error names the problem and quotes the server.
func (e *SetupError) Error() string {
	return fmt.Sprintf("openai: %s (%s answered HTTP %d: %.160s)", e.Problem, e.URL, e.Status, strings.TrimSpace(e.Body))
}

// Hint says what to change.
func (e *SetupError) Hint() string { return e.hint }

// probeTimeout bounds each request of the start-up check.
const probeTimeout = 10 * time.Second

// setup is what the engine knows of the server's verdict on its configuration.
type setup struct {
	r   *recognizer
	run sync.Mutex // one check at a time: a burst of first calls asks the server once

	mu  sync.Mutex
	ok  bool
	err *SetupError
}

// ready returns the known verdict, asking the server when there is none yet. A server
// that cannot be reached fails the stream but leaves the question open.
func (s *setup) ready(ctx context.Context) error {
	if ok, err := s.verdict(); ok || err != nil {
		return errOrNil(err)
	}
	s.run.Lock()
	defer s.run.Unlock()
	if ok, err := s.verdict(); ok || err != nil {
		return errOrNil(err)
	}
	return s.ask(ctx)
}

// recheck is Check: the whole question while the answer is not yet yes (a refused
// setting may have been fixed on the server), then only whether the server answers, so
// that a watch asking every few seconds sends no audio.
func (s *setup) recheck(ctx context.Context) error {
	s.run.Lock()
	defer s.run.Unlock()
	if ok, _ := s.verdict(); ok {
		return s.r.reachable(ctx)
	}
	return s.ask(ctx)
}

func (s *setup) verdict() (bool, *SetupError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok, s.err
}

func (s *setup) ask(ctx context.Context) error {
	err := s.r.probe(ctx)
	var se *SetupError
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		s.ok, s.err = true, nil
	case errors.As(err, &se):
		s.ok, s.err = false, se
	}
	return err
}

// errOrNil keeps a nil *SetupError from becoming a non-nil error.
func errOrNil(e *SetupError) error {
	if e == nil {
		return nil
	}
	return e
}

// probe sends a second of silence as the engine will send speech (model, format,
// language, prompt) and reads the verdict from the answer.
func (r *recognizer) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	u := segment.Utterance{Samples: make([]int16, r.cfg.SampleRate), Rate: r.cfg.SampleRate, Final: true}
	status, body, err := r.post(ctx, u, r.cfg.WordTimes)
	if err != nil {
		return fmt.Errorf("openai: %s: %w", r.url, err)
	}
	if status == http.StatusOK {
		if err := r.answer(body); err != nil {
			return err
		}
		if r.cfg.WordTimes {
			return r.languageOf(body, iso639("", r.cfg.Language))
		}
		return r.languageCheck(ctx, u)
	}
	if r.cfg.WordTimes && (status >= 500 || mentions(body, "verbose_json", "response_format")) {
		// is it verbose_json the model refuses? The same request in json tells: a model
		// that refuses it answers 400 on OpenAI and vLLM, and 500 on speaches, whose
		// parakeet executor raises an exception nothing catches
		if st, _, err := r.post(ctx, u, false); err == nil && st == http.StatusOK {
			return r.refused(status, body, fmt.Sprintf("word_times needs response_format verbose_json, which model %q refuses", r.cfg.Model),
				"set word_times: false (this model gives no word times), or choose one that gives them (whisper-1 on OpenAI, a Whisper model on speaches or whisper.cpp)")
		}
	}
	return r.classify(ctx, status, body)
}

// classify turns a refusal into its SetupError, or a plain error for a server in trouble.
func (r *recognizer) classify(ctx context.Context, status int, body []byte) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return r.refused(status, body, "the server refuses the key", "set key: to a key the server takes (sent as a bearer token)")
	case status == http.StatusNotFound && mentions(body, "model"):
		problem := fmt.Sprintf("model %q is not served at %s", r.cfg.Model, r.base)
		if served := r.models(ctx); len(served) > 0 {
			problem += " (it serves: " + strings.Join(served, ", ") + ")"
		}
		return r.refused(status, body, problem, "set model: to one the server serves (GET "+r.base+"/models lists them; on speaches, POST /v1/models/{id} installs one)")
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return r.refused(status, body, "no transcription endpoint at "+r.url,
			"check url and path: OpenAI-compatible servers take POST <base>/v1/audio/transcriptions (url: <base>/v1); whisper.cpp's server takes POST /inference under its root (path: /inference)")
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		if mentions(body, "language") {
			return r.refused(status, body, fmt.Sprintf("the server refuses language %q", iso639("", r.cfg.Language)), "set language: to an ISO-639-1 code the model knows (zh, en)")
		}
		return r.refused(status, body, "the server refuses the request", "see its answer: a field this server does not take")
	}
	return fmt.Errorf("openai: %s answered HTTP %d: %.160s", r.url, status, body)
}

func (r *recognizer) refused(status int, body []byte, problem, hint string) *SetupError {
	return &SetupError{Problem: problem, URL: r.url, Status: status, Body: string(body), hint: hint}
}

// answer checks that a 200 is a transcription.
func (r *recognizer) answer(body []byte) error {
	if _, err := parse(body); err != nil {
		return r.refused(http.StatusOK, body, "the answer is not a transcription: "+err.Error(),
			"check url and path: something other than a transcription server answers there")
	}
	return nil
}

// languageCheck asks once in verbose_json, when the configured language is not English,
// which language the model answers in: an English-only model (whisper.cpp with a
// ggml-*.en.bin) answers in English whatever it is asked. A server that refuses
// verbose_json cannot tell, and says nothing.
func (r *recognizer) languageCheck(ctx context.Context, u segment.Utterance) error {
	want := iso639("", r.cfg.Language)
	if want == "" || want == "en" {
		return nil
	}
	status, body, err := r.post(ctx, u, true)
	if err != nil || status != http.StatusOK {
		return nil
	}
	return r.languageOf(body, want)
}

// languageOf compares a verbose_json answer's language with the one asked for.
func (r *recognizer) languageOf(body []byte, want string) error {
	if want == "" {
		return nil
	}
	var v struct {
		Language string `json:"language"`
	}
	if json.Unmarshal(body, &v) != nil || v.Language == "" {
		return nil
	}
	got := strings.ToLower(v.Language)
	if code, ok := whisperNames[got]; ok {
		got = code // whisper.cpp and OpenAI name it ("chinese"); speaches and vLLM give the code
	}
	if got == want {
		return nil
	}
	return r.refused(http.StatusOK, body, fmt.Sprintf("asked for language %q, the model answered in %q", want, v.Language),
		"the server's model does not take that language: an English-only model (whisper.cpp's ggml-*.en.bin) answers in English whatever it is asked; load a multilingual one")
}

// whisperNames are Whisper's names of the languages a hotline meets, to their codes.
var whisperNames = map[string]string{"english": "en", "chinese": "zh", "cantonese": "yue", "japanese": "ja", "korean": "ko"}

// models lists the models the server serves, when it says (GET /v1/models on OpenAI,
// speaches and vLLM; whisper.cpp has no such endpoint).
func (r *recognizer) models(ctx context.Context) []string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/models", nil)
	if err != nil {
		return nil
	}
	status, body, err := r.do(req)
	if err != nil || status != http.StatusOK {
		return nil
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &list) != nil {
		return nil
	}
	var out []string
	for _, m := range list.Data {
		out = append(out, m.ID)
	}
	sort.Strings(out)
	if len(out) > 12 {
		out = append(out[:12], "…")
	}
	return out
}

// reachable is whether the server answers at all: any HTTP answer will do.
func (r *recognizer) reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/models", nil)
	if err != nil {
		return err
	}
	if _, _, err := r.do(req); err != nil {
		return fmt.Errorf("openai: %s: %w", r.base, err)
	}
	return nil
}

// mentions reports whether a body says any of words (case-insensitive).
func mentions(body []byte, words ...string) bool {
	b := strings.ToLower(string(body))
	for _, w := range words {
		if strings.Contains(b, strings.ToLower(w)) {
			return true
		}
	}
	return false
}
