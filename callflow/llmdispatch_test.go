package callflow

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/dispatch"
)

// chatServer stands in for an OpenAI-compatible model server (none runs in tests): it
// answers every chat completion with content, or with status, or hangs until the client
// gives up.
func chatServer(t *testing.T, content string, status int, hang bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// read the request first: only then does the server notice a client that gives up
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		if hang {
			<-r.Context().Done()
			return
		}
		if status != 0 {
			http.Error(w, "down", status)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
			"message": map[string]string{"role": "assistant", "content": content}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func llmScreens(t *testing.T, srv *httptest.Server, timeout time.Duration) (*Screens, *events) {
	clf, err := dispatch.NewDefault()
	require.NoError(t, err)
	l, err := dispatch.NewLLM(dispatch.LLMConfig{URL: srv.URL + "/v1", Model: "qwen", Timeout: timeout}, clf, srv.Client(), nil)
	require.NoError(t, err)
	pub := newEvents()
	return NewScreens(ScreensConfig{Publisher: pub, Store: nopLegs{}, Classifier: clf, Ranker: l,
		Hotspots: dispatch.NewHotspots(dispatch.HotspotConfig{}, time.Now)}), pub
}

// nextSuggestion waits for the next dispatch.suggested with the given backend.
func nextSuggestion(t *testing.T, pub *events, backend string) desk.SuggestedData {
	t.Helper()
	for ev := range pub.ch {
		if d, ok := ev.Data.(desk.SuggestedData); ok && d.Backend == backend {
			return d
		}
	}
	t.Fatal("events closed")
	return desk.SuggestedData{}
}

func TestLiveSuggestionsFromTheModel(t *testing.T) {
	srv := chatServer(t, `{"departments":[{"id":"water-supply","score":0.9,"evidence":["停水"]}]}`, 0, false)
	sc, pub := llmScreens(t, srv, 5*time.Second)
	ci := &Info{ID: "c1", Seat: "seat-01"}
	sc.CallArrived(ci)
	sc.Result(ci, "caller", asr.Result{UtteranceID: 1, Text: "我们小区停水一整天了", Final: true}, false)
	d := nextSuggestion(t, pub, dispatch.BackendLLM)
	require.Equal(t, "water-supply", d.Departments[0].ID)
	require.Equal(t, []string{"停水"}, d.Departments[0].Evidence)

	// from now on the model's answers are the call's suggestions: the local tracker's
	// updates (which a partial about another matter would bring) are not shown
	sc.Result(ci, "caller", asr.Result{UtteranceID: 2, Text: "还有楼上装修噪音很大 晚上也在装修"}, false)
	sc.Result(ci, "caller", asr.Result{UtteranceID: 2, Text: "还有楼上装修噪音很大 晚上也在装修", Final: true}, false)
	nextSuggestion(t, pub, dispatch.BackendLLM)
	require.NoError(t, sc.Close())
	seen := false
	for _, ev := range pub.ofType(desk.TypeSuggested) {
		b := ev.Data.(desk.SuggestedData).Backend
		seen = seen || b == dispatch.BackendLLM
		if seen {
			require.Equal(t, dispatch.BackendLLM, b, "no local suggestion after the model's")
		}
	}
}

func TestLiveSuggestionsFallBackToLocal(t *testing.T) {
	sc, pub := llmScreens(t, chatServer(t, "", http.StatusInternalServerError, false), 5*time.Second)
	ci := &Info{ID: "c1", Seat: "seat-01"}
	sc.CallArrived(ci)
	sc.Result(ci, "caller", asr.Result{UtteranceID: 1, Text: "我们小区停水一整天了", Final: true}, false)
	d := nextSuggestion(t, pub, dispatch.BackendLocal)
	require.Equal(t, "water-supply", d.Departments[0].ID)
	require.NoError(t, sc.Close())
}

func TestCloseStopsAModelRequest(t *testing.T) {
	// a model that never answers, and a timeout longer than any test: only Close ends it
	sc, _ := llmScreens(t, chatServer(t, "", 0, true), time.Hour)
	ci := &Info{ID: "c1", Seat: "seat-01"}
	sc.CallArrived(ci)
	sc.Result(ci, "caller", asr.Result{UtteranceID: 1, Text: "我们小区停水一整天了", Final: true}, false)
	require.NoError(t, sc.Close())
}
