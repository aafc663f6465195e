package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// standInLLM is a stand-in for an OpenAI-compatible chat-completions server (a locally
// hosted model cannot run in tests): it checks the request's shape and answers with the
// content the test gives it, or with a status, or not at all until the client gives up.
type standInLLM struct {
	content string
	status  int
	hang    bool
}

func (s *standInLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 || req.Messages[0].Role != "system" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "Bearer k" {
		http.Error(w, "no key", http.StatusUnauthorized)
		return
	}
	if s.hang {
		<-r.Context().Done()
		return
	}
	if s.status != 0 {
		http.Error(w, "down", s.status)
		return
	}
	resp := map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": s.content}}}}
	_ = json.NewEncoder(w).Encode(resp)
}

func TestLLMBackend(t *testing.T) {
	c := defaultClassifier(t)
	const text = "我们小区停水一整天了"
	good := `{"departments":[{"id":"water-supply","score":0.8,"evidence":["停水","火星"]},{"id":"housing-construction","score":0.1,"evidence":[]}]}`
	cases := []struct {
		name    string
		server  standInLLM
		backend string
	}{
		{"good answer", standInLLM{content: good}, BackendLLM},
		{"prose around the JSON", standInLLM{content: "Sure! " + good}, BackendLocal},
		{"trailing data", standInLLM{content: good + " {}"}, BackendLocal},
		{"unknown department", standInLLM{content: `{"departments":[{"id":"mars","score":0.9}]}`}, BackendLocal},
		{"extra field", standInLLM{content: `{"departments":[{"id":"water-supply","score":0.9,"why":"x"}]}`}, BackendLocal},
		{"scores over one", standInLLM{content: `{"departments":[{"id":"water-supply","score":0.9},{"id":"power-supply","score":0.9}]}`}, BackendLocal},
		{"empty list", standInLLM{content: `{"departments":[]}`}, BackendLocal},
		{"server error", standInLLM{status: http.StatusInternalServerError}, BackendLocal},
		{"timeout", standInLLM{hang: true}, BackendLocal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&tc.server)
			defer srv.Close()
			l, err := NewLLM(LLMConfig{URL: srv.URL + "/v1", Model: "local", APIKey: "k", Timeout: 200 * time.Millisecond}, c, srv.Client(), nil)
			require.NoError(t, err)
			got, backend := l.Rank(context.Background(), text, 3)
			require.Equal(t, tc.backend, backend)
			require.NotEmpty(t, got)
			require.Equal(t, "water-supply", got[0].ID)
			if backend == BackendLLM {
				require.Equal(t, 0.8, got[0].Score)
				require.Equal(t, []string{"停水"}, got[0].Evidence, "evidence the caller never said is dropped")
				require.Equal(t, "水务集团（供水排水）", got[0].Name)
			}
		})
	}
}

func TestLLMConfig(t *testing.T) {
	c := defaultClassifier(t)
	_, err := NewLLM(LLMConfig{}, c, nil, nil)
	require.Error(t, err)
	_, err = NewLLM(LLMConfig{URL: "http://127.0.0.1:1"}, nil, nil, nil)
	require.Error(t, err)
	l, err := NewLLM(LLMConfig{URL: "http://127.0.0.1:1/v1/chat/completions/"}, c, nil, nil)
	require.NoError(t, err)
	require.Contains(t, l.String(), "127.0.0.1:1/v1/chat/completions ")
	got, backend := l.Rank(context.Background(), "", 3)
	require.Empty(t, got)
	require.Equal(t, BackendLocal, backend)
}

func FuzzParseLLMAnswer(f *testing.F) {
	tax, err := DefaultTaxonomy()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"departments":[{"id":"water-supply","score":0.8,"evidence":["停水"]}]}`)
	f.Add(`{"departments":[{"id":"water-supply","score":1e309}]}`)
	f.Add(`{"departments":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, content string) {
		got, err := parseLLMAnswer(content, "停水了", tax, 3)
		if err != nil {
			return
		}
		var sum float64
		for _, s := range got {
			sum += s.Score
		}
		if len(got) == 0 || len(got) > 3 || sum > 1.001 {
			t.Fatalf("accepted %q as %+v", content, got)
		}
	})
}
