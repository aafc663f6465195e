package desk

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
	"lianxin/store"
)

// A wallboard opened after urgent calls lists, with no new event, those a supervisor still
// needs, newest first: the call in progress and the one whose order was not submitted,
// not the one whose order was, nor yesterday's. A reload lists them once each, and so does
// a gateway started again on the same SQLite file.
func TestBrowserWallboardShowsUrgentCallsWhenOpened(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{})
	now := e.clock.Now()
	urgentCall(e, "u-yesterday", "seat-09", now.Add(-24*time.Hour))
	urgentCall(e, "u1", "seat-01", now.Add(-30*time.Minute)) // in progress
	urgentCall(e, "u2", "seat-02", now.Add(-20*time.Minute))
	endCall(e, "u2")
	submitOrder(t, e.st, "u2", store.OrderPending)
	urgentCall(e, "u3", "seat-03", now.Add(-10*time.Minute))
	endCall(e, "u3")

	// listed waits for the urgent calls sent on connecting (which says the panel's socket
	// is subscribed), then checks the whole list once a live one published after them
	// shows: nothing more of the state can come
	listed := func(srv *env, live, what string) {
		t.Helper()
		browsertest.Until(t, bctx, `document.querySelector('#workorders li.wo-urgent[data-call="u1"]') &&
			document.querySelector('#workorders li.wo-urgent[data-call="u3"]')`, 20*time.Second,
			what+": the urgent calls still to be seen, with no new event")
		srv.publish(Event{Type: TypeWorkOrderUrgent, CallID: live, Data: WorkOrderUrgentData{Seat: "seat-08", Reasons: []string{"火灾"}}})
		require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#workorders li.wo-urgent[data-call="`+live+`"]`)))
		calls := browsertest.Eval[[]string](t, bctx, `Array.from(document.querySelectorAll('#workorders li.wo-urgent')).map((li) => li.dataset.call)`)
		require.Equal(t, []string{live, "u3", "u1"}, calls, what)
		u3 := text(t, bctx, `#workorders li.wo-urgent[data-call="u3"]`)
		for _, s := range []string{"燃气泄漏", "seat-03", "幸福小区", "煤气味"} {
			require.Contains(t, u3, s, what)
		}
		require.NotContains(t, u3, "13805801234", "%s: admins read speech masked", what)
	}
	openWallboard(t, bctx, e.srv.URL)
	listed(e, "live-1", "opened")
	require.NoError(t, chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(`#conn.ok`)))
	listed(e, "live-2", "reloaded")

	require.NoError(t, e.desk.Close())
	again := restartDesk(t, e)
	openWallboard(t, bctx, again.srv.URL)
	listed(again, "live-3", "after a restart")
}

// An open wall drops an urgent call once the call has ended and its order is on its way,
// in either order, as a reload would; a call whose order is submitted while it goes on
// stays until it ends.
func TestBrowserWallboardDropsUrgentCallsHandedOn(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{})
	openWallboard(t, bctx, e.srv.URL)
	shown := func(call string) string {
		return `!!document.querySelector('#workorders li.wo-urgent[data-call="` + call + `"]')`
	}
	for _, c := range []string{"ends-first", "order-first", "order-dies"} {
		e.publish(Event{Type: TypeWorkOrderUrgent, CallID: c, Data: WorkOrderUrgentData{Seat: "seat-01", Reasons: []string{"火灾"}}})
		browsertest.Until(t, bctx, shown(c), 20*time.Second, c+" is listed")
	}
	status := func(call, state string) {
		e.publish(Event{Type: TypeWorkOrderStatus, CallID: call, Data: WorkOrderStatus{ID: 1, Key: call, State: state}})
	}
	ended := func(call string) { e.publish(Event{Type: TypeEnded, CallID: call}) }

	ended("ends-first")
	status("order-first", "pending")
	status("order-dies", "pending")
	status("order-dies", "dead")
	ended("order-dies")
	// a later urgent call proves the events before it were handled
	e.publish(Event{Type: TypeWorkOrderUrgent, CallID: "marker", Data: WorkOrderUrgentData{Seat: "seat-02", Reasons: []string{"火灾"}}})
	browsertest.Until(t, bctx, shown("marker"), 20*time.Second, "marker is listed")
	require.True(t, browsertest.Eval[bool](t, bctx, shown("ends-first")), "ended, no order yet: still listed")
	require.True(t, browsertest.Eval[bool](t, bctx, shown("order-first")), "order on its way, call goes on: still listed")
	require.True(t, browsertest.Eval[bool](t, bctx, shown("order-dies")), "its order died: still the supervisor's")

	status("ends-first", "delivered")
	ended("order-first")
	browsertest.Until(t, bctx, `!(`+shown("ends-first")+`) && !(`+shown("order-first")+`)`, 20*time.Second,
		"handed on and ended: both leave the list")
	require.True(t, browsertest.Eval[bool](t, bctx, shown("order-dies")))
}
