package workorder

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// standInLLM stands in for an OpenAI-compatible chat-completions server (a locally hosted
// model cannot run in tests): it checks the request's shape and answers with the content
// the test gives it, with a status, or not at all until the client gives up.
type standInLLM struct {
	content string
	status  int
	hang    bool
	delay   time.Duration
}

// wireRequest is the chat-completions request as the server reads it.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat map[string]string `json:"response_format"`
}

func (s *standInLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req wireRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 || req.Messages[0].Role != "system" ||
		!strings.HasPrefix(req.Messages[1].Content, "来电内容：") || req.ResponseFormat["type"] != "json_object" {
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
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	if s.status != 0 {
		http.Error(w, "down", s.status)
		return
	}
	resp := map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": "qwen",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": s.content}}}}
	_ = json.NewEncoder(w).Encode(resp)
}

func answer(where, summary string) string {
	b, _ := json.Marshal(summaryAnswer{Who: "市民", Where: where, What: "停水", Want: "尽快恢复供水", Summary: summary})
	return string(b)
}

func TestLLMSummary(t *testing.T) {
	text := []string{"我们阳光花园三号楼从昨天晚上十点就停水了", "希望尽快恢复供水", "电话幺三八零五八零幺二三四"}
	good := "市民来电反映：阳光花园三号楼自昨天晚上十点起停水。诉求：尽快恢复供水。"
	cases := []struct {
		name   string
		server standInLLM
		source string
	}{
		{"good answer", standInLLM{content: answer("阳光花园三号楼", good)}, SourceLLM},
		{"invented place", standInLLM{content: answer("幸福家园", "市民来电反映：幸福家园停水。")}, SourceExtractive},
		{"invented place in the summary only", standInLLM{content: answer("", "市民来电反映：东方小区停水。")}, SourceExtractive},
		{"invented number", standInLLM{content: answer("阳光花园", "市民来电反映：阳光花园5号楼停水。")}, SourceExtractive},
		{"invented time", standInLLM{content: answer("阳光花园", "市民来电反映：阳光花园自十一点起停水。")}, SourceExtractive},
		{"prose around the JSON", standInLLM{content: "好的：" + answer("阳光花园", good)}, SourceExtractive},
		{"extra field", standInLLM{content: `{"summary":"停水","confidence":1}`}, SourceExtractive},
		{"trailing data", standInLLM{content: answer("", good) + "{}"}, SourceExtractive},
		{"empty summary", standInLLM{content: answer("", "")}, SourceExtractive},
		{"server error", standInLLM{status: http.StatusInternalServerError}, SourceExtractive},
		{"timeout", standInLLM{hang: true}, SourceExtractive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&tc.server)
			defer srv.Close()
			l, err := NewLLM(LLMConfig{URL: srv.URL + "/v1", Model: "qwen", APIKey: "k", Timeout: 300 * time.Millisecond}, srv.Client())
			require.NoError(t, err)
			d := builder(t, l).Complete(context.Background(), Input{CallID: "c", Text: text})
			require.True(t, d.Complete)
			require.Equal(t, tc.source, d.SummarySource)
			if tc.source == SourceLLM {
				require.Equal(t, good, d.Summary)
			} else {
				require.Equal(t, Extractive(text, d.Fields), d.Summary)
			}
		})
	}
}

func TestLLMSummaryMarksUrgent(t *testing.T) {
	srv := httptest.NewServer(&standInLLM{content: answer("", "市民来电反映：楼道有煤气味。诉求：马上来人。")})
	defer srv.Close()
	l, err := NewLLM(LLMConfig{URL: srv.URL + "/v1/chat/completions", APIKey: "k"}, srv.Client())
	require.NoError(t, err)
	d := builder(t, l).Complete(context.Background(), Input{Text: []string{"楼道有煤气味", "马上来人"}})
	require.Equal(t, SourceLLM, d.SummarySource)
	require.Equal(t, "【紧急】市民来电反映：楼道有煤气味。诉求：马上来人。", d.Summary)
	_, err = NewLLM(LLMConfig{}, nil)
	require.Error(t, err)
}

func FuzzCheckSummary(f *testing.F) {
	f.Add(answer("阳光花园", "市民来电反映：阳光花园停水。"))
	f.Add(`{"summary":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, content string) {
		s, err := checkSummary(content, "阳光花园停水了", Fields{})
		if err == nil && strings.TrimSpace(s) == "" {
			t.Fatalf("accepted an empty summary from %q", content)
		}
	})
}

func TestNumbersMustBeSaid(t *testing.T) {
	text := "阳光花园三号楼十点停水，电话幺三八零五八零幺二三四"
	for _, ok := range []string{"3号楼", "三号楼", "10点", "十点", "13805801234"} {
		_, err := checkSummary(answer("", "市民反映"+ok+"停水"), text, Fields{})
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"5号楼", "十一点", "11点", "13805801235", "两天"} {
		_, err := checkSummary(answer("", "市民反映"+bad+"停水"), text, Fields{})
		require.Error(t, err, bad)
	}
}
