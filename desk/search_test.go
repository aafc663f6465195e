package desk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// stuckSearch is a store whose searches run until their context ends, as a hostile query
// on a big database would; started and stopped report each search's life.
type stuckSearch struct {
	store.Store
	started chan struct{}
	stopped chan error
}

func (s *stuckSearch) SearchUtterances(ctx context.Context, _ store.SearchQuery) ([]store.Utterance, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	s.stopped <- ctx.Err()
	return nil, ctx.Err()
}

// A query over the store's limits is answered 400 with a JSON reason, never 500.
func TestSearchLimitsAnswer400(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	adm := e.login("admin", "adminpw")
	for name, q := range map[string]string{
		"too many terms": strings.Repeat("噪音 ", store.MaxSearchTerms+1),
		"too long":       strings.Repeat("噪", store.MaxSearchChars+1),
		"only spaces":    "   ",
	} {
		code, body := e.do("GET", "/api/transcripts?q="+url.QueryEscape(q), adm, nil)
		require.Equal(t, http.StatusBadRequest, code, name)
		var res map[string]string
		require.NoError(t, json.Unmarshal(body, &res), name)
		require.Contains(t, res["error"], "bad search", name)
	}
}

// stuckEnv starts a desk whose store's searches never finish by themselves.
func stuckEnv(t *testing.T, timeout time.Duration) (*env, *stuckSearch, string) {
	stuck := &stuckSearch{started: make(chan struct{}, 1), stopped: make(chan error, 1)}
	e := newEnvWith(t, Config{SearchTimeout: timeout}, Options{},
		func(st store.Store) store.Store { stuck.Store = st; return stuck })
	return e, stuck, e.login("admin", "adminpw")
}

// searchReq is a search request with the admin token.
func searchReq(t *testing.T, ctx context.Context, e *env, tok string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/transcripts?q=噪音", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

// A search runs under a deadline: past SearchTimeout it is stopped and answered 400.
func TestSearchDeadline(t *testing.T) {
	e, stuck, adm := stuckEnv(t, 100*time.Millisecond)
	// the client's own timeout only bounds a hung test
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(searchReq(t, context.Background(), e, adm))
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]string
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body["error"], "search took longer than 100ms")
	<-stuck.started
	require.ErrorIs(t, <-stuck.stopped, context.DeadlineExceeded)
}

// A search runs under its request's context: when the client goes, the search stops.
func TestSearchStopsWhenClientGoes(t *testing.T) {
	e, stuck, adm := stuckEnv(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	req := searchReq(t, ctx, e, adm)
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-stuck.started
	cancel()
	require.ErrorIs(t, <-stuck.stopped, context.Canceled, "the search ends with its request")
	require.Error(t, <-errc)
}
