package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"lianxin/store"

	"lianxin/internal/testpeer"
)

func TestLoginAndTokenExpiry(t *testing.T) {
	e := newEnv(t, Config{TokenTTL: time.Hour, Seats: map[string]string{"seat-60": "own"}}, Options{})
	code, body := e.do("POST", "/api/login", "", map[string]string{"seat": "seat-01", "user": "seat-01", "password": seatPass})
	require.Equal(t, http.StatusOK, code, string(body))
	var res loginResponse
	require.NoError(t, json.Unmarshal(body, &res))
	require.Equal(t, RoleSeat, res.Role)
	require.Equal(t, "seat-01", res.Seat)

	for _, bad := range []map[string]string{{"user": "seat-01", "password": "wrong"}, {"user": "admin", "password": seatPass},
		{"user": "seat-60", "password": seatPass}, {"user": "", "password": ""}, {"user": "nobody", "password": "x"}} {
		code, body := e.do("POST", "/api/login", "", bad)
		require.Equal(t, http.StatusUnauthorized, code, bad)
		require.Contains(t, string(body), `"error"`)
	}
	code, _ = e.do("POST", "/api/login", "", "just a string")
	require.Equal(t, http.StatusBadRequest, code)
	require.NotEmpty(t, e.login("seat-60", "own"), "per-seat credentials from Config.Seats")
	require.Equal(t, 2.0, testutil.ToFloat64(e.desk.m.logins.WithLabelValues("ok")))

	adm := e.login("admin", "adminpw")
	code, body = e.do("GET", "/api/me", res.Token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"seat":"seat-01"`)
	code, _ = e.do("GET", "/api/me?token="+res.Token, "", nil)
	require.Equal(t, http.StatusOK, code, "token in the query, as browsers send it to /ws")

	e.clock.Add(time.Hour)
	for _, tok := range []string{res.Token, adm} {
		code, body = e.do("GET", "/api/me", tok, nil)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, string(body), "expired")
		_, wres, err := e.dial(tok, -1)
		require.Error(t, err)
		require.Equal(t, http.StatusUnauthorized, wres.StatusCode)
	}
	code, _ = e.do("GET", "/api/calls", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = e.do("GET", "/api/calls", "garbage", nil)
	require.Equal(t, http.StatusUnauthorized, code)
}

// seedCall publishes a whole call on seat and returns its id.
func (e *env) seedCall(id, seat, text, dept string) {
	e.offer(id, seat)
	e.clock.Add(5 * time.Second)
	e.publish(Event{Type: TypeAnswered, CallID: id, Seat: seat})
	e.publish(Event{Type: TypeFinal, CallID: id, Seat: seat, Data: TranscriptData{Channel: "caller", UtteranceID: "1", Text: text, EndMS: 2000, Confidence: 0.9}})
	e.publish(Event{Type: TypeSuggested, CallID: id, Seat: seat, Data: SuggestedData{Departments: []Department{
		{ID: dept, Name: dept, Score: 0.7, Evidence: []string{"噪音"}}, {ID: "other", Score: 0.2}}}})
}

func TestCallsTranscriptsAndSeatIsolation(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	e.seedCall("c1", "seat-01", "楼上装修噪音很大", "env")
	e.seedCall("c2", "seat-02", "小区装修噪音扰民", "env")
	s1, s2, adm := e.login("seat-01", seatPass), e.login("seat-02", seatPass), e.login("admin", "adminpw")

	code, body := e.do("GET", "/api/calls/c1", s1, nil)
	require.Equal(t, http.StatusOK, code)
	var c store.CallDetail
	require.NoError(t, json.Unmarshal(body, &c))
	require.Equal(t, "楼上装修噪音很大", c.Utterances[0].Text)
	require.Equal(t, "env", c.Suggestions[0].Departments[0].ID)

	code, _ = e.do("GET", "/api/calls/c1", s2, nil)
	require.Equal(t, http.StatusForbidden, code)
	code, _ = e.do("GET", "/api/calls/c1", adm, nil)
	require.Equal(t, http.StatusOK, code)
	code, _ = e.do("GET", "/api/calls/none", adm, nil)
	require.Equal(t, http.StatusNotFound, code)

	search := func(tok, q string) (int, []string) {
		code, body := e.do("GET", "/api/transcripts?q="+q, tok, nil)
		var res struct{ Results []store.Utterance }
		require.NoError(t, json.Unmarshal(body, &res))
		var calls []string
		for _, u := range res.Results {
			calls = append(calls, u.CallID)
		}
		return code, calls
	}
	code, calls := search(adm, "装修噪音")
	require.Equal(t, http.StatusOK, code)
	require.ElementsMatch(t, []string{"c1", "c2"}, calls)
	_, calls = search(s2, "装修噪音")
	require.Equal(t, []string{"c2"}, calls, "a seat searches its own calls only")
	code, _ = search(s1, "")
	require.Equal(t, http.StatusBadRequest, code)

	code, body = e.do("GET", "/api/calls", s1, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"c1"`)
	require.NotContains(t, string(body), `"c2"`)
	code, _ = e.do("GET", "/api/calls?seat=seat-02", s1, nil)
	require.Equal(t, http.StatusForbidden, code)
	code, _ = e.do("GET", "/api/calls?date=yesterday", adm, nil)
	require.Equal(t, http.StatusBadRequest, code)
	code, body = e.do("GET", "/api/calls?date="+e.clock.Now().Format(time.DateOnly), adm, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"c2"`)
	code, _ = e.do("GET", "/api/nothing", adm, nil)
	require.Equal(t, http.StatusNotFound, code)
}

func TestDecideAndSetStateThroughAPI(t *testing.T) {
	type decision struct {
		seat, call, dept string
		accepted         bool
	}
	got := make(chan decision, 4)
	states := make(chan string, 4)
	e := newEnv(t, Config{}, Options{
		OnDecide: func(_ context.Context, seat, callID, dept string, accepted bool) error {
			if dept == "closed-dept" {
				return errors.New("department closed")
			}
			got <- decision{seat, callID, dept, accepted}
			return nil
		},
		OnSetState: func(_ context.Context, seat, state string) error { states <- seat + "=" + state; return nil },
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "available", "seat-02": "away"} },
		Departments: func() []Dept {
			return []Dept{{ID: "env", Name: "生态环境局", NameEN: "Environment"}, {ID: "water", Name: "水务局"}}
		},
	})
	e.seedCall("c1", "seat-01", "停水三天了", "water")
	s1, s2, adm := e.login("seat-01", seatPass), e.login("seat-02", seatPass), e.login("admin", "adminpw")

	code, body := e.do("POST", "/api/dispatch/decide", s2, map[string]any{"call_id": "c1", "department": "env"})
	require.Equal(t, http.StatusForbidden, code, string(body))
	code, _ = e.do("POST", "/api/dispatch/decide", s1, map[string]any{"call_id": "c1"})
	require.Equal(t, http.StatusBadRequest, code)
	code, _ = e.do("POST", "/api/dispatch/decide", s1, map[string]any{"call_id": "zz", "department": "env"})
	require.Equal(t, http.StatusNotFound, code)
	code, body = e.do("POST", "/api/dispatch/decide", s1, map[string]any{"call_id": "c1", "department": "closed-dept"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, string(body), "department closed")
	code, _ = e.do("POST", "/api/dispatch/decide", s1, map[string]any{"call_id": "c1", "department": "env", "accepted": false})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, decision{"seat-01", "c1", "env", false}, <-got)
	c, err := e.st.Call(context.Background(), "c1")
	require.NoError(t, err)
	require.Equal(t, []store.Decision{{CallID: "c1", Seat: "seat-01", Department: "env", Suggested: "water",
		At: c.Decisions[0].At}}, c.Decisions, "only the decision that dispatch took is stored")

	code, _ = e.do("POST", "/api/seat/state", s1, map[string]string{"state": "away"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "seat-01=away", <-states)
	code, _ = e.do("POST", "/api/seat/state", s1, map[string]string{"state": "away", "seat": "seat-02"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "seat-01=away", <-states, "a seat sets its own state only")
	code, _ = e.do("POST", "/api/seat/state", adm, map[string]string{"state": "available", "seat": "seat-02"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "seat-02=available", <-states)
	code, _ = e.do("POST", "/api/seat/state", s1, map[string]string{"state": "sleeping"})
	require.Equal(t, http.StatusBadRequest, code)

	code, body = e.do("GET", "/api/stats/today", adm, nil)
	require.Equal(t, http.StatusOK, code)
	var st struct {
		Stats       store.DayStats
		Departments []namedCount
	}
	require.NoError(t, json.Unmarshal(body, &st))
	require.Equal(t, 1, st.Stats.Offered)
	require.Equal(t, 1, st.Stats.Answered)
	require.Equal(t, int64(5000), st.Stats.AvgWaitMS)
	require.Equal(t, []namedCount{{Dept: Dept{ID: "env", Name: "生态环境局", NameEN: "Environment"}, Calls: 1}}, st.Departments)
	code, _ = e.do("GET", "/api/stats/today", s1, nil)
	require.Equal(t, http.StatusForbidden, code)
	code, body = e.do("GET", "/api/seats", adm, nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"seat-01":"available","seat-02":"away"}`, string(body))
	code, body = e.do("GET", "/api/me", s1, nil)
	require.Equal(t, http.StatusOK, code)
	var me meResponse
	require.NoError(t, json.Unmarshal(body, &me))
	require.Equal(t, "available", me.State)
	evs, err := e.st.Events(context.Background(), store.EventFilter{CallID: "c1", Limit: 1})
	require.NoError(t, err)
	require.Equal(t, evs[0].Seq-1, *me.ResumeSeq, "an open call replays from its start")
	e.publish(Event{Type: TypeEnded, CallID: "c1", Seat: "seat-01"})
	_, body = e.do("GET", "/api/me", s1, nil)
	require.NotContains(t, string(body), "resume_seq", "nothing to resume once the call ended")
	code, body = e.do("GET", "/api/departments", s1, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), "水务局")
}

func TestPagesAndMetrics(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	for path, want := range map[string]string{"/": "agent.js", "/admin": "admin.js", "/static/common.js": "after_seq"} {
		res, err := http.Get(e.srv.URL + path)
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.Contains(t, b.String(), want, path)
	}
	c := e.connect(e.login("admin", "adminpw"), -1)
	e.offer("c1", "seat-01")
	c.next()
	require.Equal(t, 1.0, testutil.ToFloat64(e.desk.m.subscribers))
	require.Equal(t, 1.0, testutil.ToFloat64(e.desk.m.events.WithLabelValues(TypeOffered)))
	n, err := testutil.GatherAndCount(e.reg)
	require.NoError(t, err)
	require.Positive(t, n)
}

// The desk's metrics pass promtool's lint (names, units, help, _total counters).
func TestMetricsLint(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testpeer.Unavailable(t, "needs promtool (Debian package prometheus)")
	}
	e := newEnv(t, Config{}, Options{})
	e.offer("c1", "seat-01")
	code, _ := e.do("POST", "/api/login", "", map[string]string{"user": "x", "password": "y"})
	require.Equal(t, http.StatusUnauthorized, code)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	exposition := rec.Body.String()
	require.Contains(t, exposition, "lianxin_ws_subscribers")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

// Password guessing is throttled per user and address: the fifth wrong password locks the
// pair out with 429 and Retry-After, even for the right password, until the lockout ends;
// each further failure doubles it. Another user is not affected, and a right password
// clears the count.
func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	login := func(user, pass string) (int, http.Header, []byte) {
		b, err := json.Marshal(map[string]string{"user": user, "password": pass})
		require.NoError(t, err)
		res, err := http.Post(e.srv.URL+"/api/login", "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header, body
	}
	for range pairLimit - 1 {
		code, _, _ := login("seat-01", "guess")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _, _ := login("seat-01", seatPass)
	require.Equal(t, http.StatusOK, code, "four wrong passwords do not lock; the right one clears them")
	for range pairLimit {
		code, _, _ := login("seat-01", "guess")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, hdr, body := login("seat-01", seatPass)
	require.Equal(t, http.StatusTooManyRequests, code, "locked, even with the right password")
	require.Equal(t, "30", hdr.Get("Retry-After"))
	require.Contains(t, string(body), `"error":"too many wrong passwords`)
	code, _, _ = login("seat-02", seatPass)
	require.Equal(t, http.StatusOK, code, "another seat is not locked")

	e.clock.Add(31 * time.Second)
	code, _, _ = login("seat-01", "guess")
	require.Equal(t, http.StatusUnauthorized, code, "the lockout ended")
	code, hdr, _ = login("seat-01", seatPass)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "60", hdr.Get("Retry-After"), "a failure after a lockout doubles it")
	e.clock.Add(61 * time.Second)
	code, _, _ = login("seat-01", seatPass)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 2.0, testutil.ToFloat64(e.desk.m.logins.WithLabelValues("throttled")))
}
