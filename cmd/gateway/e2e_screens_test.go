package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/internal/browsertest"
)

// TestAgentScreenEndToEnd drives the whole gateway as agents do: two agent screens in
// headless Chromium (seat-01 and seat-02), two registered baresip seat phones, a sipp
// caller speaking English, live transcription on the embedded recogniser and dispatch.
// The call reaches seat-01 (the longest-idle seat); its screen shows the call, the
// caller's words and a suggested department; the agent accepts it and the decision is
// stored and published. seat-02's screen and socket see nothing of the call, and its
// token cannot read it. A seat-01 socket dropped mid-call resumes with after_seq and
// gets what it missed; one resuming from 0 gets the whole call with the seqs it had live.
func TestAgentScreenEndToEnd(t *testing.T) {
	browser := browsertest.Start(t)
	g := startGateway(t, func(c *config.Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 2 })
	// seat-01 registers first, so it is the longest idle of two available seats (the ACD
	// breaks a tie by seat id, seat-01 again): the call goes there by the routing rule.
	g.seat(t, "seat-01")
	g.seat(t, "seat-02")
	states := g.app.acd.States()
	require.Equal(t, "available", string(states["seat-01"]))
	require.Equal(t, "available", string(states["seat-02"]))

	adminTok, tok1, tok2 := g.login(t, testAdmin, testAdminPassword), g.login(t, "seat-01", "secret"), g.login(t, "seat-02", "secret")
	admin := g.openWS(t, adminTok, -1, nil)
	// seat-01's socket drops itself right after the call is answered; the rest of the call
	// must come back on a resume.
	dropped := g.openWS(t, tok1, -1, func(e wsEvent) bool { return e.Type == "call.answered" })
	watch2 := g.openWS(t, tok2, -1, nil)

	screen1 := browsertest.Isolated(t, browser)
	screen2 := browsertest.Isolated(t, browser)
	g.openScreen(t, screen1, "seat-01")
	g.openScreen(t, screen2, "seat-02")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)

	seen := dropped.waitFor(t, "call.offered and call.answered on seat-01's socket", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == "call.answered" }) != nil
	})
	<-dropped.done // it closed its socket right after call.answered
	offered := find(seen, func(e wsEvent) bool { return e.Type == "call.offered" })
	require.NotNil(t, offered, "call.offered precedes call.answered: %v", summarise(seen))
	callID := offered.CallID
	require.NotEmpty(t, callID)
	missedAfter := seen[len(seen)-1].Seq
	require.NotZero(t, missedAfter, "the dropped socket's last event is the stored call.answered")

	finalText := checkSeat01Screen(t, screen1)
	top := acceptTopSuggestion(t, screen1)
	decided := admin.waitFor(t, "dispatch.decided on the admin socket", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == "dispatch.decided" && e.CallID == callID }) != nil
	})
	decidedEv := find(decided, func(e wsEvent) bool { return e.Type == "dispatch.decided" && e.CallID == callID })
	require.Equal(t, "seat-01", decidedEv.Seat)
	require.JSONEq(t, fmt.Sprintf(`{"department":%q,"suggested":%q,"accepted":true}`, top, top), string(decidedEv.Data))
	g.checkStored(t, adminTok, callID, top, finalText)

	checkSeat02SawNothing(t, g, screen2, watch2, tok2, callID)
	checkResume(t, g, tok1, callID, missedAfter, decidedEv.Seq, admin.events())
}

// checkSeat01Screen waits for the call on seat-01's screen: the banner went from ringing
// to the call to its end, caller partials showed while the caller spoke, a final caller
// line holds words the recogniser gets from the fixture, and suggestions with scores are
// listed. It returns the caller's final text as the page shows it.
func checkSeat01Screen(t *testing.T, screen context.Context) string {
	t.Helper()
	browsertest.Until(t, screen, `document.querySelector('#banner.ended')`, 30*time.Second, "seat-01's banner shows the call ended")
	browsertest.Until(t, screen, `[...document.querySelectorAll('#transcript .turn.caller.final .text')].some(e => /garbage/i.test(e.textContent))`,
		30*time.Second, "a final caller line on seat-01's screen holds what the caller said")
	browsertest.Until(t, screen, `document.querySelectorAll('#suggestions li button.accept').length > 0`, 30*time.Second,
		"seat-01's screen lists suggested departments")
	seen := browsertest.Eval[screenLog](t, screen, `window.__seen`)
	require.Equal(t, []string{"idle", "ringing", "active", "ended"}, seen.Banner, "banner: waiting, incoming, in call, ended")
	require.True(t, seen.CallerPartial, "caller partials were shown live before the final")
	require.Greater(t, seen.Lines, 0)

	text := browsertest.Eval[string](t, screen, `[...document.querySelectorAll('#transcript .turn.caller.final .text')].map(e => e.textContent).join(' ')`)
	t.Logf("seat-01 caller transcript: %q", text)
	sugg := browsertest.Eval[[]string](t, screen, `[...document.querySelectorAll('#suggestions li')].map(li => li.dataset.dept + ' | ' + li.textContent)`)
	t.Logf("seat-01 suggestions: %q", sugg)
	require.NotEmpty(t, sugg)
	require.LessOrEqual(t, len(sugg), 3)
	for _, s := range sugg {
		require.Regexp(t, regexp.MustCompile(`\d+%`), s, "each suggestion shows its score")
	}
	return text
}

// acceptTopSuggestion clicks accept on the first department and waits for the page to show
// the decision (which it only does on the dispatch.decided event). It returns the id.
func acceptTopSuggestion(t *testing.T, screen context.Context) string {
	t.Helper()
	top := browsertest.Eval[string](t, screen, `document.querySelector('#suggestions li').dataset.dept`)
	require.NotEmpty(t, top)
	require.NoError(t, chromedp.Do(screen, chromedp.Click(`#suggestions li:first-child button.accept`)))
	browsertest.Until(t, screen, fmt.Sprintf(`document.querySelector('#suggestions li.chosen[data-dept=%q]') && document.querySelector('#decided').textContent !== ''`, top),
		15*time.Second, "seat-01's screen shows the accepted department")
	require.Empty(t, browsertest.Eval[string](t, screen, `document.querySelector('#error').textContent`))
	return top
}

// checkSeat02SawNothing: seat-02 goes away on its screen, and the seat.state event that
// follows on its socket is a fence (events reach a screen in seq order) behind which the
// call's events would have arrived. Neither its socket nor its screen ever had any of
// them, and its token can neither read nor decide the call.
func checkSeat02SawNothing(t *testing.T, g *testGateway, screen context.Context, ws *wsTap, tok, callID string) {
	t.Helper()
	require.NoError(t, chromedp.Do(screen, chromedp.Click(`#state-toggle`)))
	browsertest.Until(t, screen, `document.querySelector('#state.state-away')`, 15*time.Second, "seat-02's screen shows it away")
	evs := ws.waitFor(t, "seat-02's own state change", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == "seat.state" && strings.Contains(string(e.Data), `"away"`) }) != nil
	})
	for _, e := range evs {
		require.NotEqual(t, callID, e.CallID, "seat-02's socket got %s of seat-01's call", e.Type)
		require.Equal(t, "seat-02", e.Seat, "seat-02's socket got an event of another seat: %+v", e)
	}
	seen := browsertest.Eval[screenLog](t, screen, `window.__seen`)
	require.Equal(t, []string{"idle"}, seen.Banner, "seat-02's banner never showed a call")
	require.Zero(t, seen.Lines, "seat-02's screen never showed a transcript line")
	require.Empty(t, browsertest.Eval[string](t, screen, `document.querySelector('#transcript').textContent + document.querySelector('#suggestions').textContent`))

	code, body := g.api(t, "GET", "/api/calls/"+callID, tok, nil)
	require.Equal(t, http.StatusForbidden, code, body)
	code, body = g.api(t, "POST", "/api/dispatch/decide", tok, map[string]any{"call_id": callID, "department": "education", "accepted": false})
	require.Equal(t, http.StatusForbidden, code, body)
}

// checkResume: a seat-01 socket resuming after the last event the dropped one saw gets
// the rest of the call; one resuming from 0 gets all of it. Both carry exactly the seat's
// stored events the admin socket had live, with the same seqs, times and data.
func checkResume(t *testing.T, g *testGateway, tok, callID string, missedAfter, decidedSeq int64, adminLive []wsEvent) {
	t.Helper()
	var want []wsEvent
	for _, e := range adminLive {
		if e.Seq > 0 && e.Seat == "seat-01" && e.CallID == callID && e.Seq <= decidedSeq {
			want = append(want, e)
		}
	}
	types := map[string]int{}
	for _, e := range want {
		types[e.Type]++
	}
	for _, typ := range []string{"call.offered", "call.answered", "transcript.final", "dispatch.suggested", "call.ended", "dispatch.decided"} {
		require.Positive(t, types[typ], "the call's stored events include %s: %v", typ, types)
	}
	require.Zero(t, types["transcript.partial"], "partials are live only")

	for _, after := range []int64{missedAfter, 0} {
		ws := g.openWS(t, tok, after, nil)
		evs := ws.waitFor(t, fmt.Sprintf("replay after seq %d", after), func(evs []wsEvent) bool {
			return find(evs, func(e wsEvent) bool { return e.Seq >= decidedSeq }) != nil
		})
		ws.close()
		var got []wsEvent
		last := after
		for _, e := range evs {
			require.Greater(t, e.Seq, last, "seqs strictly increase on a resumed stream: %+v", e)
			last = e.Seq
			if e.CallID == callID && e.Seq <= decidedSeq {
				got = append(got, e)
			}
		}
		var wantHere []wsEvent
		for _, e := range want {
			if e.Seq > after {
				wantHere = append(wantHere, e)
			}
		}
		missed := map[string]bool{}
		for _, e := range wantHere {
			missed[e.Type] = true
		}
		require.True(t, missed["transcript.final"] && missed["call.ended"], "after seq %d the call's transcript and end are still to come", after)
		require.Equal(t, summarise(wantHere), summarise(got), "resume after seq %d", after)
	}
}

// checkStored reads the call back from the API with the admin token.
func (g *testGateway) checkStored(t *testing.T, adminTok, callID, dept, finalText string) {
	t.Helper()
	code, body := g.api(t, "GET", "/api/calls/"+callID, adminTok, nil)
	require.Equal(t, http.StatusOK, code, body)
	var c struct {
		Seat       string `json:"seat"`
		Outcome    string `json:"outcome"`
		Utterances []struct {
			Channel, Text string
		} `json:"utterances"`
		Suggestions []struct {
			Departments []struct{ ID string } `json:"departments"`
		} `json:"suggestions"`
		Decisions []struct {
			Department, Suggested string
			Accepted              bool
		} `json:"decisions"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &c), body)
	require.Equal(t, "seat-01", c.Seat)
	require.Equal(t, "answered", c.Outcome)
	require.Len(t, c.Decisions, 1, body)
	require.Equal(t, dept, c.Decisions[0].Department)
	require.Equal(t, dept, c.Decisions[0].Suggested)
	require.True(t, c.Decisions[0].Accepted)
	require.NotEmpty(t, c.Suggestions)
	require.Equal(t, dept, c.Suggestions[len(c.Suggestions)-1].Departments[0].ID, "the accepted one is the latest top suggestion")
	var caller []string
	for _, u := range c.Utterances {
		if u.Channel == "caller" {
			caller = append(caller, u.Text)
		}
	}
	require.Equal(t, finalText, strings.Join(caller, " "), "the store holds the caller's finals the screen showed")

	code, body = g.api(t, "GET", "/api/calls/"+callID+"/recording", adminTok, nil)
	require.Equal(t, http.StatusOK, code, "admins download the call's recording")
	require.True(t, strings.HasPrefix(body, "RIFF") && strings.Contains(body[:64], "WAVE"), "a WAV file")
	code, body = g.api(t, "GET", "/api/audit", adminTok, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, callID, "the download is in the audit log")
}

// screenLog is what the recorder installed by openScreen saw on a page.
type screenLog struct {
	Banner        []string `json:"banner"`
	CallerPartial bool     `json:"callerPartial"`
	Lines         int      `json:"lines"`
}

// recorder notes every state the call banner takes, whether a caller partial was ever on
// screen and the most transcript lines shown at once. A MutationObserver runs after every
// task, so no state between two socket messages is missed.
const recorder = `(() => {
  const seen = window.__seen = { banner: [], callerPartial: false, lines: 0 };
  const check = () => {
    const b = document.getElementById('banner').className.replace('banner', '').trim();
    if (seen.banner[seen.banner.length - 1] !== b) seen.banner.push(b);
    if (document.querySelector('#transcript .turn.caller.partial')) seen.callerPartial = true;
    seen.lines = Math.max(seen.lines, document.querySelectorAll('#transcript .turn').length);
  };
  check();
  new MutationObserver(check).observe(document.getElementById('main'),
    { subtree: true, childList: true, attributes: true, characterData: true });
  return true;
})()`

// openScreen logs seat in on the agent screen in screen, waits for its socket and
// installs the recorder.
func (g *testGateway) openScreen(t *testing.T, screen context.Context, seat string) {
	t.Helper()
	require.NoError(t, chromedp.Do(screen,
		chromedp.Navigate("http://"+g.http+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, seat),
		chromedp.SetValue(`#password`, "secret"),
		chromedp.Click(`#login-btn`),
	))
	browsertest.Until(t, screen, `document.querySelector('#conn.ok') && document.querySelector('#state.state-available')`,
		15*time.Second, seat+"'s screen is connected and shows the seat available")
	require.Equal(t, seat, browsertest.Eval[string](t, screen, `document.querySelector('#seat-name').textContent`))
	require.True(t, browsertest.Eval[bool](t, screen, recorder))
}

func (g *testGateway) login(t *testing.T, user, pass string) string {
	t.Helper()
	code, body := g.api(t, "POST", "/api/login", "", map[string]string{"user": user, "password": pass})
	require.Equal(t, http.StatusOK, code, body)
	var res struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	require.NotEmpty(t, res.Token)
	return res.Token
}

// api sends a JSON request to the gateway with a bearer token.
func (g *testGateway) api(t *testing.T, method, path, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+g.http+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// wsEvent is the envelope of DESIGN.md as a client reads it.
type wsEvent struct {
	Seq    int64           `json:"seq"`
	Type   string          `json:"type"`
	Time   time.Time       `json:"time"`
	CallID string          `json:"call_id"`
	Seat   string          `json:"seat"`
	Data   json.RawMessage `json:"data"`
}

// summarise is how two streams' events are compared: every field, the data compacted.
func summarise(evs []wsEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		var data bytes.Buffer
		_ = json.Compact(&data, e.Data)
		out[i] = fmt.Sprintf("%d %s %s %s %s %s", e.Seq, e.Type, e.Time.UTC().Format(time.RFC3339Nano), e.CallID, e.Seat, data.String())
	}
	return out
}

func find(evs []wsEvent, pred func(wsEvent) bool) *wsEvent {
	for i := range evs {
		if pred(evs[i]) {
			return &evs[i]
		}
	}
	return nil
}

// wsTap is a gorilla client on /ws that keeps every event after the hello. Its reader
// goroutine is owned by the tap: close (also run at cleanup) ends it and waits.
type wsTap struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	evs     []wsEvent
	err     error
	changed chan struct{} // closed and replaced on every event and at the end
	done    chan struct{}
	once    sync.Once
}

// openWS connects with token, after_seq when after >= 0, and waits for the hello. When
// stopAfter is set, the tap closes its socket right after the first event it accepts.
func (g *testGateway) openWS(t *testing.T, token string, after int64, stopAfter func(wsEvent) bool) *wsTap {
	t.Helper()
	q := url.Values{"token": {token}}
	if after >= 0 {
		q.Set("after_seq", fmt.Sprint(after))
	}
	conn, res, err := websocket.DefaultDialer.Dial("ws://"+g.http+"/ws?"+q.Encode(), nil)
	require.NoError(t, err)
	res.Body.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	var hello wsEvent
	require.NoError(t, conn.ReadJSON(&hello))
	require.Equal(t, "hello", hello.Type)
	require.NoError(t, conn.SetReadDeadline(time.Time{}))
	w := &wsTap{conn: conn, changed: make(chan struct{}), done: make(chan struct{})}
	go w.read(stopAfter)
	t.Cleanup(w.close)
	return w
}

func (w *wsTap) read(stopAfter func(wsEvent) bool) {
	defer close(w.done)
	defer w.conn.Close()
	for {
		var e wsEvent
		err := w.conn.ReadJSON(&e)
		w.mu.Lock()
		if err == nil {
			w.evs = append(w.evs, e)
		} else {
			w.err = err
		}
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
		if err != nil || (stopAfter != nil && stopAfter(e)) {
			return
		}
	}
}

func (w *wsTap) close() {
	w.once.Do(func() { w.conn.Close() })
	<-w.done
}

func (w *wsTap) events() []wsEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wsEvent(nil), w.evs...)
}

// waitFor waits until the events so far satisfy cond and returns them; it fails when the
// socket ends first or after a generous bound that only stops a broken run.
func (w *wsTap) waitFor(t *testing.T, what string, cond func([]wsEvent) bool) []wsEvent {
	t.Helper()
	bound := time.NewTimer(30 * time.Second)
	defer bound.Stop()
	for {
		w.mu.Lock()
		evs, err, changed := append([]wsEvent(nil), w.evs...), w.err, w.changed
		w.mu.Unlock()
		if cond(evs) {
			return evs
		}
		if err != nil {
			require.FailNow(t, "socket ended before "+what, "%v; events: %v", err, summarise(evs))
		}
		select {
		case <-changed:
		case <-bound.C:
			require.FailNow(t, "waiting for "+what, "events: %v", summarise(evs))
		}
	}
}
