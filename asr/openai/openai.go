// Package openai speaks the OpenAI-compatible transcription APIs: the HTTP endpoint
// POST /v1/audio/transcriptions (OpenAI, whisper.cpp's server, speaches, vLLM, LocalAI),
// one multipart WAV per utterance cut by the segmenter, and the Realtime transcription
// WebSocket (realtime.go). The HTTP engine asks the server at start-up whether it takes
// the configuration (setup.go).
//
// Tested against the stand-ins in openai/openaitest, which answer as OpenAI, whisper.cpp,
// speaches and vLLM do; no such server runs here.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/lang"
	"lianxin/asr/internal/pcm"
	"lianxin/asr/internal/resample"
	"lianxin/asr/segment"
)

// Config configures the HTTP adapter.
type Config struct {
	// URL is the API base, e.g. https://api.openai.com/v1 or http://speaches:8000/v1; the
	// adapter posts to URL + Path.
	URL string `yaml:"url"`
	// Path is the transcription endpoint under URL ("/audio/transcriptions"; whisper.cpp's
	// server takes "/inference" under its root unless started with --inference-path).
	Path string `yaml:"path"`
	// Key is sent as a bearer token (optional for self-hosted servers).
	Key string `yaml:"key"`
	// Model, e.g. "whisper-1" (default) or "gpt-4o-transcribe"; self-hosted servers
	// often ignore it.
	Model string `yaml:"model"`
	// Language is the default ISO-639-1 code when a stream does not say ("" lets the
	// model detect).
	Language string `yaml:"language"`
	// Prompt is a standing prompt; per-stream hotwords are appended to it.
	Prompt string `yaml:"prompt"`
	// WordTimes asks for verbose_json with word timestamps (whisper-1 and whisper.cpp;
	// the gpt-4o models accept json only).
	WordTimes bool `yaml:"word_times"`
	// SampleRate of the uploaded WAV (16000: whisper.cpp takes nothing else).
	SampleRate int `yaml:"sample_rate"`
	// Segment tunes the VAD and segmenter (partials by re-submission: PartialEvery).
	Segment segment.Config `yaml:"segment"`
	// MaxStreams limits concurrent streams (0: unlimited).
	MaxStreams int `yaml:"max_streams"`
	// Timeout per request (20 s).
	Timeout time.Duration `yaml:"timeout"`
	Client  *http.Client  `yaml:"-"`
	Logger  *slog.Logger  `yaml:"-"`
}

// New returns the engine, named "openai": a segmenter over the transcription endpoint.
func New(cfg Config) (asr.Engine, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("openai: url is required")
	}
	if cfg.Model == "" {
		cfg.Model = "whisper-1"
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 16000
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Path == "" {
		cfg.Path = "/audio/transcriptions"
	}
	sc := cfg.Segment
	sc.MaxStreams, sc.Logger = cfg.MaxStreams, cfg.Logger
	if cfg.Timeout > 0 {
		sc.Timeout = cfg.Timeout
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	rec := &recognizer{cfg: cfg, base: base, url: base + "/" + strings.TrimPrefix(cfg.Path, "/")}
	return &httpEngine{Segmenter: segment.NewSegmenter("openai", rec, sc), client: cfg.Client, setup: &setup{r: rec}}, nil
}

// httpEngine is the segmenter, the HTTP client whose connections it ends with, and what
// the server said of the configuration.
type httpEngine struct {
	*segment.Segmenter
	client *http.Client
	setup  *setup
}

// NewStream opens a stream once the server has taken the configuration: the first
// stream asks it (unless Check did), and a setting it refused fails every stream with the
// refusal, so that the leg is transcribed after the call instead of one gap per utterance.
func (e *httpEngine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	if err := e.setup.ready(ctx); err != nil {
		return nil, err
	}
	return e.Segmenter.NewStream(ctx, cfg)
}

// Check asks the server whether it takes the configuration (a *SetupError says what it
// refused), or, once it has, whether it still answers.
func (e *httpEngine) Check(ctx context.Context) error { return e.setup.recheck(ctx) }

// Close drops the client's idle keep-alive connections.
func (e *httpEngine) Close() error {
	e.client.CloseIdleConnections()
	return e.Segmenter.Close()
}

type recognizer struct {
	cfg       Config
	base, url string
}

// String names the endpoint.
func (r *recognizer) String() string { return "openai(" + r.url + ")" }

// Recognize posts one utterance.
func (r *recognizer) Recognize(ctx context.Context, u segment.Utterance) (segment.Transcript, error) {
	status, b, err := r.post(ctx, u, r.cfg.WordTimes)
	if err != nil {
		return segment.Transcript{}, err
	}
	if status != http.StatusOK {
		return segment.Transcript{}, fmt.Errorf("openai: HTTP %d: %.200s", status, b)
	}
	return parse(b)
}

// post sends an utterance, with word times asked for when words is set, and returns the
// answer's status and body.
func (r *recognizer) post(ctx context.Context, u segment.Utterance, words bool) (int, []byte, error) {
	samples := u.Samples
	if u.Rate != r.cfg.SampleRate {
		rs, err := resample.New(u.Rate, r.cfg.SampleRate)
		if err != nil {
			return 0, nil, err
		}
		samples = append(rs.Process(samples), rs.Flush()...)
	}
	body, ctype, err := r.form(u, samples, words)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ctype)
	return r.do(req)
}

// do sends a request with the key and reads the answer (at most 1 MiB).
func (r *recognizer) do(req *http.Request) (int, []byte, error) {
	if r.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("openai: reading response: %w", err)
	}
	return resp.StatusCode, b, nil
}

func (r *recognizer) form(u segment.Utterance, samples []int16, words bool) (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	f, err := w.CreateFormFile("file", "utterance.wav")
	if err != nil {
		return nil, "", err
	}
	if _, err := f.Write(pcm.WAV(samples, r.cfg.SampleRate)); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", r.cfg.Model}, {"response_format", "json"}}
	if words {
		fields = [][2]string{{"model", r.cfg.Model}, {"response_format", "verbose_json"}, {"timestamp_granularities[]", "word"}}
	}
	if lang := iso639(u.Config.Language, r.cfg.Language); lang != "" {
		fields = append(fields, [2]string{"language", lang})
	}
	if p := prompt(r.cfg.Prompt, u.Config.Hotwords); p != "" {
		fields = append(fields, [2]string{"prompt", p})
	}
	for _, kv := range fields {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// iso639 reduces a BCP-47 tag ("zh-CN") to the ISO-639-1 code the API takes ("zh").
func iso639(tag, def string) string {
	if tag == "" {
		tag = def
	}
	code, _, _ := strings.Cut(tag, "-")
	if code = strings.ToLower(code); code == "cmn" {
		return "zh" // Mandarin's ISO 639-3 code; Whisper knows it as zh
	}
	return code
}

func prompt(standing string, hotwords []string) string {
	parts := []string{}
	if standing != "" {
		parts = append(parts, standing)
	}
	if len(hotwords) > 0 {
		parts = append(parts, strings.Join(hotwords, ", "))
	}
	return strings.Join(parts, " ")
}

type response struct {
	Text     *string        `json:"text"`
	Language string         `json:"language"`
	Words    []responseWord `json:"words"`
	// Segments carry the word times on whisper.cpp's server, which nests them in each
	// segment (examples/server, format_verbose_json: segments[].words[] with word, start,
	// end, t_dtw and probability) where OpenAI puts one flat list at the top.
	Segments []struct {
		Words []responseWord `json:"words"`
	} `json:"segments"`
}

type responseWord struct {
	Word        string   `json:"word"`
	Start       float64  `json:"start"`
	End         float64  `json:"end"`
	Probability *float64 `json:"probability"`
}

func parse(b []byte) (segment.Transcript, error) {
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		return segment.Transcript{}, fmt.Errorf("openai: response is not JSON: %w: %.80q", err, b)
	}
	if r.Text == nil {
		return segment.Transcript{}, fmt.Errorf("openai: response without text: %.80q", b)
	}
	// whisper.cpp's server writes each segment on a line of its own, with the leading
	// space of Whisper's tokens (output_str, examples/server/server.cpp l.454-470)
	t := segment.Transcript{Text: lang.JoinWords(*r.Text), Confidence: -1}
	if len(r.Language) == 2 {
		t.Language = r.Language // verbose_json names the language ("english") on OpenAI; keep codes only
	}
	words := r.Words
	if len(words) == 0 {
		for _, seg := range r.Segments {
			words = append(words, seg.Words...)
		}
	}
	for _, w := range words {
		start := max(0, pcm.Seconds(w.Start))
		conf := -1.0 // OpenAI gives none
		if w.Probability != nil {
			conf = *w.Probability
		}
		t.Words = append(t.Words, asr.Word{Text: strings.TrimSpace(w.Word), Start: start, End: max(start, pcm.Seconds(w.End)), Confidence: conf})
	}
	return t, nil
}
