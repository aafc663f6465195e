package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"
)

// LLMConfig points at an OpenAI-compatible chat-completions endpoint, typically a model
// hosted on the hotline's own network.
type LLMConfig struct {
	URL     string        // base URL (…/v1) or the full …/chat/completions endpoint
	Model   string        // model name sent in the request
	APIKey  string        // sent as a bearer token when set
	Timeout time.Duration // per request; default 3s
}

// LLM ranks departments by asking a language model, and falls back to the local classifier
// whenever the model is slow, down or answers anything but the JSON it was asked for.
type LLM struct {
	cfg      LLMConfig
	chat     *Chat
	fallback *Classifier
	log      *slog.Logger
	system   string
}

// Backends a ranking can come from.
const (
	BackendLLM   = "llm"
	BackendLocal = "local"
)

// NewLLM returns an LLM backend over the fallback's taxonomy. client may be nil.
func NewLLM(cfg LLMConfig, fallback *Classifier, client *http.Client, log *slog.Logger) (*LLM, error) {
	if cfg.URL == "" {
		return nil, errors.New("dispatch: llm: no URL")
	}
	if fallback == nil {
		return nil, errors.New("dispatch: llm: a fallback classifier is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LLM{cfg: cfg, chat: NewChat(cfg.URL, cfg.Model, cfg.APIKey, client), fallback: fallback, log: log,
		system: systemPrompt(fallback.tax)}, nil
}

// String names the backend for logs.
func (l *LLM) String() string {
	return fmt.Sprintf("%v, fallback %v", l.chat, l.fallback)
}

func systemPrompt(t *Taxonomy) string {
	var b strings.Builder
	b.WriteString("You route calls to a city 12345 government hotline to the department that must act on the caller's primary request. Departments (id: name):\n")
	for _, d := range t.Departments {
		fmt.Fprintf(&b, "%s: %s / %s\n", d.ID, d.Name, d.NameEN)
	}
	b.WriteString(`Answer with one JSON object and nothing else: {"departments":[{"id":"<id>","score":<0..1>,"evidence":["<words quoted from the call>"]}]}, best first, scores summing to at most 1.`)
	return b.String()
}

// Rank asks the model and returns its ranking, or the local classifier's when the model
// fails; the second result says which backend answered.
func (l *LLM) Rank(ctx context.Context, text string, top int) ([]Suggestion, string) {
	if strings.TrimSpace(normalize(text)) == "" {
		return nil, BackendLocal
	}
	got, err := l.Ask(ctx, text, top)
	if err == nil {
		return got, BackendLLM
	}
	l.log.Warn("dispatch llm failed, using local classifier", "err", err)
	return l.fallback.Rank(text, top), BackendLocal
}

// Ask queries the model once, without fallback.
func (l *LLM) Ask(ctx context.Context, text string, top int) ([]Suggestion, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	if r := []rune(text); len(r) > maxRunes {
		text = string(r[:maxRunes])
	}
	content, err := l.chat.Ask(ctx, l.system, text)
	if err != nil {
		return nil, fmt.Errorf("dispatch: llm: %w", err)
	}
	return parseLLMAnswer(content, text, l.fallback.tax, top)
}

// parseLLMAnswer checks the model's answer strictly: one JSON object of the asked shape,
// known and distinct ids, scores in [0,1] summing to at most 1. Evidence the caller never
// said is dropped.
func parseLLMAnswer(content, text string, t *Taxonomy, top int) ([]Suggestion, error) {
	var ans struct {
		Departments []struct {
			ID       string   `json:"id"`
			Score    float64  `json:"score"`
			Evidence []string `json:"evidence"`
		} `json:"departments"`
	}
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ans); err != nil {
		return nil, fmt.Errorf("dispatch: llm: answer is not the JSON asked for: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("dispatch: llm: trailing data after the JSON answer")
	}
	if len(ans.Departments) == 0 {
		return nil, errors.New("dispatch: llm: no departments in answer")
	}
	norm := normalize(text)
	seen := map[string]bool{}
	var sum float64
	out := make([]Suggestion, 0, len(ans.Departments))
	for _, d := range ans.Departments {
		i := t.Index(d.ID)
		if i < 0 {
			return nil, fmt.Errorf("dispatch: llm: unknown department %q", d.ID)
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("dispatch: llm: department %q twice", d.ID)
		}
		if !(d.Score >= 0 && d.Score <= 1) {
			return nil, fmt.Errorf("dispatch: llm: score %v out of range", d.Score)
		}
		seen[d.ID] = true
		sum += d.Score
		dep := t.Departments[i]
		s := Suggestion{ID: dep.ID, Name: dep.Name, NameEN: dep.NameEN, Score: d.Score}
		for _, e := range d.Evidence {
			if n := strings.TrimSpace(normalize(e)); n != "" && strings.Contains(norm, n) {
				s.Evidence = append(s.Evidence, n)
			}
		}
		out = append(out, s)
	}
	if sum > 1.001 {
		return nil, fmt.Errorf("dispatch: llm: scores sum to %.3f", sum)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Score > out[b].Score })
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out, nil
}
