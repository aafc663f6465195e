package desk

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// gasSummary is an urgent call's summary, with a personal number admins read masked.
const gasSummary = "市民来电反映：楼道有很浓的煤气味，回电13805801234。"

// urgentCall publishes, as the call flow does at at, a call offered to seat whose draft
// became urgent: the draft, then the alert to the admins.
func urgentCall(e *env, callID, seat string, at time.Time) {
	e.t.Helper()
	e.publish(Event{Type: TypeOffered, Time: at, CallID: callID, Seat: seat, Data: CallOfferedData{From: "13800000000", To: "12345"}})
	draft := map[string]any{"call_id": callID, "place": "幸福小区", "summary": gasSummary, "urgent": true, "urgent_reasons": []string{"燃气泄漏"}}
	e.publish(Event{Type: TypeWorkOrderDraft, Time: at, CallID: callID, Seat: seat, Data: draft})
	e.publish(Event{Type: TypeWorkOrderUrgent, Time: at, CallID: callID, Data: WorkOrderUrgentData{Seat: seat,
		Reasons: []string{"燃气泄漏"}, Place: "幸福小区", Summary: gasSummary}})
}

// endCall publishes the end of callID, answered and completed.
func endCall(e *env, callID string) {
	e.t.Helper()
	e.publish(Event{Type: TypeEnded, CallID: callID, Data: CallEndedData{Reason: "completed"}})
}

// submitOrder queues callID's work order as a submit does, and leaves it in state.
func submitOrder(t *testing.T, st *store.SQLite, callID, state string) {
	t.Helper()
	ctx := context.Background()
	o, _, err := st.EnqueueOrder(ctx, store.NewOrder{CallID: callID, Seat: "seat-01", At: time.Now(),
		Build: func(v int) (string, json.RawMessage, error) { return callID + ":v1", json.RawMessage(`{}`), nil }})
	require.NoError(t, err)
	switch state {
	case store.OrderDelivered:
		require.NoError(t, st.OrderDelivered(ctx, o.ID, "GD-1", time.Now()))
	case store.OrderDead:
		require.NoError(t, st.OrderDead(ctx, o.ID, "HTTP 503", time.Now()))
	}
}

// An admin who connects is told, after the hello, of the day's urgent calls a supervisor
// still needs: in progress, or ended with no work order on its way (none, or a dead
// letter), oldest first so that the wall lists them newest first, speech masked, with no
// seq. Not of yesterday's, nor of those whose order is queued or delivered, nor of calls
// that are not urgent; and a seat, or a screen taking other types, is told nothing of it.
func TestWallboardUrgentCallsOnConnect(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	now := e.clock.Now()
	urgentCall(e, "u-yesterday", "seat-09", now.Add(-24*time.Hour))
	urgentCall(e, "u1", "seat-01", now.Add(-60*time.Minute)) // in progress
	urgentCall(e, "u2", "seat-02", now.Add(-50*time.Minute)) // ended, order queued
	endCall(e, "u2")
	submitOrder(t, e.st, "u2", store.OrderPending)
	urgentCall(e, "u3", "seat-03", now.Add(-40*time.Minute)) // ended, order delivered
	endCall(e, "u3")
	submitOrder(t, e.st, "u3", store.OrderDelivered)
	urgentCall(e, "u4", "seat-04", now.Add(-30*time.Minute)) // ended, order a dead letter
	endCall(e, "u4")
	submitOrder(t, e.st, "u4", store.OrderDead)
	urgentCall(e, "u5", "seat-05", now.Add(-20*time.Minute)) // ended, no order yet
	endCall(e, "u5")
	urgentCall(e, "u6", "seat-06", now.Add(-10*time.Minute)) // in progress, order queued
	submitOrder(t, e.st, "u6", store.OrderPending)
	e.offer("c7", "seat-07")
	e.publish(Event{Type: TypeWorkOrderDraft, CallID: "c7", Seat: "seat-07", Data: map[string]any{"call_id": "c7", "summary": "停水"}})

	want := []string{"u1", "u4", "u5", "u6"}
	for _, types := range []string{"", TypeWorkOrderUrgent} {
		c, _, err := e.dialQuery(e.login("admin", "adminpw"), -1, url.Values{"types": {types}})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		adm := &wsClient{t: t, c: c}
		require.Equal(t, TypeHello, adm.next().Type)
		for _, id := range want {
			ev := adm.next()
			require.Equal(t, TypeWorkOrderUrgent, ev.Type, "types %q", types)
			require.Equal(t, id, ev.CallID, "types %q", types)
			require.Zero(t, ev.Seq)
			var d WorkOrderUrgentData
			require.NoError(t, json.Unmarshal(ev.Data, &d))
			require.Equal(t, []string{"燃气泄漏"}, d.Reasons)
			require.Equal(t, "seat-0"+id[1:], d.Seat)
			require.Equal(t, "幸福小区", d.Place)
			require.Contains(t, d.Summary, "煤气味")
			require.NotContains(t, d.Summary, "13805801234", "admins read speech masked")
		}
		live := e.publish(Event{Type: TypeWorkOrderUrgent, CallID: "u8", Data: WorkOrderUrgentData{Reasons: []string{"火灾"}}})
		require.Equal(t, live.Seq, adm.next().Seq, "types %q: then the stream goes on live", types)
	}

	seat := e.connect(e.login("seat-01", seatPass), -1)
	c, _, err := e.dialQuery(e.login("admin", "adminpw"), -1, url.Values{"types": {"seat.state"}})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	states := &wsClient{t: t, c: c}
	require.Equal(t, TypeHello, states.next().Type)
	ev := e.publish(Event{Type: TypeSeatState, Seat: "seat-01", Data: SeatStateData{State: "away"}})
	require.Equal(t, ev.Seq, seat.next().Seq, "a seat is not sent the urgent calls")
	require.Equal(t, ev.Seq, states.next().Seq, "nor a screen that takes other types")
}

// A desk started again on the same store shows the day's urgent calls, and at midnight
// (the desk's day) they are yesterday's and leave the wall.
func TestWallboardUrgentCallsOutliveRestart(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	urgentCall(e, "u1", "seat-01", e.clock.Now())
	require.NoError(t, e.desk.Close())

	again := restartDesk(t, e)
	adm := again.connect(again.login("admin", "adminpw"), -1)
	first := adm.next()
	require.Equal(t, TypeWorkOrderUrgent, first.Type)
	require.Equal(t, "u1", first.CallID)

	e.clock.Add(14 * time.Hour) // 00:00 the next day
	adm = again.connect(again.login("admin", "adminpw"), -1)
	live := again.offer("c9", "seat-01")
	require.Equal(t, live.Seq, adm.next().Seq, "yesterday's urgent call is not shown")
}
