package desk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
	"lianxin/store"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium (Debian's) with a fresh profile and extra options, and
// returns a context for its first tab.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testpeer.Unavailable(t, "needs %s (Debian package chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	// the deadline only stops a hung browser from hanging the test run; on a loaded
	// machine a long page test needs more than two minutes
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	require.NoError(t, chromedp.Do(bctx))
	return bctx
}

// text reads the text of the first node matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	require.NoError(t, err)
	return s
}

// seatBoard is the seat package's stand-in for this test: it keeps states and publishes their
// changes, as the gateway's seat package does through Publish.
type seatBoard struct {
	mu     sync.Mutex
	states map[string]string
	desk   *Desk
}

func (b *seatBoard) States() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]string{}
	for k, v := range b.states {
		out[k] = v
	}
	return out
}

func (b *seatBoard) Set(ctx context.Context, seat, state string) error {
	b.mu.Lock()
	b.states[seat] = state
	b.mu.Unlock()
	_, err := b.desk.Publish(ctx, Event{Type: TypeSeatState, Seat: seat, Data: SeatStateData{State: state}})
	return err
}

func TestBrowserAgentScreenAndWallboard(t *testing.T) {
	bctx := browser(t)
	board := &seatBoard{states: map[string]string{"seat-01": "available", "seat-02": "away"}}
	decided := make(chan string, 1)
	e := newEnv(t, Config{}, Options{
		OnDecide: func(_ context.Context, seat, callID, dept string, accepted bool) error {
			if accepted {
				decided <- seat + "/" + callID + "/" + dept
			}
			return nil
		},
		OnSetState: board.Set,
		SeatStates: board.States,
		Queue:      func() (int, time.Duration) { return 3, 95 * time.Second },
		OnHotspotAction: func(_ context.Context, id, action, who string) error {
			if action == HotspotAcknowledge {
				board.desk.Publish(context.Background(), Event{Type: TypeHotspot, Data: HotspotData{ID: id, State: "acknowledged",
					Issue: "电梯故障", Place: "阳光花园3号楼", Count: 3, AckBy: who}})
			}
			return nil
		},
		Departments: func() []Dept {
			return []Dept{{ID: "env", Name: "生态环境局", NameEN: "Environment"}, {ID: "housing", Name: "住建局", NameEN: "Housing"}}
		},
		Now: time.Now, // the page runs on the browser's clock
	})
	board.desk = e.desk

	// the agent logs in as seat-01 and waits for its socket
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(`#login`),
	))
	connShown, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById('conn')).display !== 'none'`))
	require.NoError(t, err)
	require.False(t, connShown, "no connection warning before anyone logs in")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetValue(`#user`, "seat-01"),
		chromedp.SetValue(`#password`, seatPass),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitNotVisible(`#login`),
	))
	require.Equal(t, "空闲", text(t, bctx, `#state`), "Chinese by default, state from /api/me")

	// a call arrives with its transcript and a suggestion
	e.publish(Event{Type: TypeOffered, CallID: "c1", Seat: "seat-01", Data: CallOfferedData{From: "13800138000"}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#banner.ringing`)))
	e.publish(Event{Type: TypeAnswered, CallID: "c1", Seat: "seat-01"})
	e.publish(Event{Type: TypePartial, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "1", Text: "楼上装修"}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#u-caller-1.partial`)))
	e.publish(Event{Type: TypeFinal, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "caller", UtteranceID: "1", Text: "楼上装修噪音很大", EndMS: 2400, Confidence: 0.9}})
	e.publish(Event{Type: TypeFinal, CallID: "c1", Seat: "seat-01", Data: TranscriptData{Channel: "agent", UtteranceID: "1", Text: "好的，我帮您登记", StartMS: 2600, EndMS: 4000}})
	e.publish(Event{Type: TypeDTMF, CallID: "c1", Seat: "seat-01", Data: DTMFData{Digit: "1"}})
	e.publish(Event{Type: TypeSuggested, CallID: "c1", Seat: "seat-01", Data: SuggestedData{Tentative: true, Backend: "local",
		Departments: []Department{{ID: "housing", Name: "住建局", NameEN: "Housing", Score: 0.41}, {ID: "env", Name: "生态环境局", Score: 0.3}}}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#suggestions li.tentative[data-dept="housing"]`)))
	require.Contains(t, text(t, bctx, `#suggestions li[data-dept="housing"]`), "可能", "a tentative suggestion says so")
	require.Contains(t, text(t, bctx, `#suggest-backend`), "本地模型", "the agent sees the local model stood in for the language model")
	e.publish(Event{Type: TypeSuggested, CallID: "c1", Seat: "seat-01", Data: SuggestedData{Departments: []Department{
		{ID: "env", Name: "生态环境局", Score: 0.82, Evidence: []string{"装修", "噪音"}},
		{ID: "housing", Name: "住建局", Score: 0.11}, {ID: "police", Name: "公安局", Score: 0.04}}}})

	require.NoError(t, chromedp.Do(bctx,
		chromedp.WaitVisible(`#u-caller-1.final`),
		chromedp.WaitVisible(`#u-agent-1.final`),
		chromedp.WaitVisible(`#suggestions li[data-dept="police"]`),
	))
	suggestions, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#suggestions li')].map(li => li.textContent)`))
	require.NoError(t, err)
	require.Equal(t, "楼上装修噪音很大", text(t, bctx, `#u-caller-1 .text`), "the final replaced the partial in place")
	require.Equal(t, "好的，我帮您登记", text(t, bctx, `#u-agent-1 .text`))
	require.Equal(t, "1", text(t, bctx, `#dtmf`))
	require.Equal(t, "通话中", text(t, bctx, `#banner-text`))
	require.Len(t, suggestions, 3)
	require.Contains(t, suggestions[0], "生态环境局")
	require.Contains(t, suggestions[0], "82%")
	require.Contains(t, suggestions[0], "噪音", "evidence phrases are shown")

	// one click accepts the top department; the decision is stored before the page shows it
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(`#suggestions button.accept[data-dept="env"]`),
		chromedp.WaitVisible(`#suggestions li.chosen[data-dept="env"]`),
	))
	require.Equal(t, "seat-01/c1/env", <-decided)
	c, err := e.st.Call(context.Background(), "c1")
	require.NoError(t, err)
	require.Len(t, c.Decisions, 1)
	require.Equal(t, "env", c.Decisions[0].Department)
	require.True(t, c.Decisions[0].Accepted)

	// a reload mid-call shows the call from its start again
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`#u-caller-1.final`),
		chromedp.WaitVisible(`#suggestions li.chosen[data-dept="env"]`),
	))
	require.Equal(t, "楼上装修噪音很大", text(t, bctx, `#u-caller-1 .text`))

	require.NoError(t, chromedp.Do(bctx, chromedp.WaitNotPresent(`#suggestions li.tentative`)))

	// English UI
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#lang`)))
	require.Equal(t, "On call", text(t, bctx, `#banner-text`))

	checkWallboard(t, e, bctx)
}

// checkWallboard opens the wallboard in a second tab: it follows seat states (one changed on
// the agent screen in bctx), hotspot alerts, ASR health and the day's figures.
func checkWallboard(t *testing.T, e *env, bctx context.Context) {
	admin, cancel := chromedp.NewContext(bctx)
	defer cancel()
	require.NoError(t, chromedp.Do(admin,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`.seat[data-seat="seat-01"].state-available`),
		chromedp.WaitVisible(`.seat[data-seat="seat-02"].state-away`),
	))
	require.Equal(t, "1", text(t, admin, `#offered`))
	require.Equal(t, "3", text(t, admin, `#waiting`), "callers waiting now")
	require.Equal(t, "01:35", text(t, admin, `#longest-wait`))

	// the agent goes away on the agent screen; the wallboard shows it
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#state-toggle`), chromedp.WaitVisible(`#state.state-away`)))
	require.NoError(t, chromedp.Do(admin, chromedp.WaitVisible(`.seat[data-seat="seat-01"].state-away`)))
	e.publish(Event{Type: TypeHotspot, Data: HotspotData{Topic: "装修噪音", Department: "env", Count: 14}})
	e.publish(Event{Type: TypeASRHealth, Data: ASRHealthData{Engine: "sherpa", OK: true, LagMS: 180}})
	require.NoError(t, chromedp.Do(admin, chromedp.WaitVisible(`#alerts li`), chromedp.WaitVisible(`#asr.ok`)))
	require.Contains(t, text(t, admin, `#alerts li`), "装修噪音")
	require.Contains(t, text(t, admin, `#asr-state`), "sherpa")
	now := time.Now()
	for i, ans := range []string{"satisfied", "basic", "dissatisfied", "no_answer"} {
		id := fmt.Sprint("sv", i)
		require.NoError(t, e.st.Write(context.Background(), store.Call{ID: id, OfferedAt: now},
			store.CallEnded{CallID: id, At: now, Survey: ans}))
	}
	e.publish(Event{Type: TypeEnded, CallID: "c1", Seat: "seat-01"})
	require.NoError(t, chromedp.Do(admin, chromedp.WaitVisible(`#depts tr[data-dept="env"]`)))
	require.NoError(t, chromedp.Do(admin, chromedp.Poll[chromedp.Void](`document.getElementById('satisfaction').textContent === '67% (3)'`)),
		"满意率: satisfied or fairly satisfied, of those who answered")
	checkAlertLifeCycle(t, e, admin)
}

// checkAlertLifeCycle: an alert's row follows its states; the admin acknowledges it with a
// click; an expired alert leaves the list; a failing part shows until it recovers.
func checkAlertLifeCycle(t *testing.T, e *env, admin context.Context) {
	e.publish(Event{Type: TypeHotspot, Data: HotspotData{ID: "hotspot-7", State: "raised", Issue: "电梯故障",
		Place: "阳光花园3号楼", Count: 3}})
	row := `#alerts li[data-alert="hotspot-7"]`
	require.NoError(t, chromedp.Do(admin, chromedp.WaitVisible(row+` button.alert-acknowledge`)))
	require.Contains(t, text(t, admin, row), "电梯故障 @ 阳光花园3号楼")
	require.NoError(t, chromedp.Do(admin,
		chromedp.Click(row+` button.alert-acknowledge`),
		chromedp.WaitVisible(row+`.acknowledged`),
	))
	require.Contains(t, text(t, admin, row), "admin", "who acknowledged it")
	e.publish(Event{Type: TypeHotspot, Data: HotspotData{ID: "hotspot-7", State: "expired", Count: 3}})
	require.NoError(t, chromedp.Do(admin, chromedp.WaitNotPresent(row)))

	e.desk.ReportHealth("store", errors.New("database or disk is full"))
	require.NoError(t, chromedp.Do(admin, chromedp.WaitVisible(`#health`)))
	require.Contains(t, text(t, admin, `#health`), "database or disk is full")
	e.desk.ReportHealth("store", nil)
	require.NoError(t, chromedp.Do(admin, chromedp.WaitNotVisible(`#health`)))
}
