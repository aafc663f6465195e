package desk

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// The agent's work-order form fills in from the drafts, keeps what the agent typed, submits
// the edited order and shows the work-order system's number.
func TestBrowserWorkOrderForm(t *testing.T) {
	bctx := browser(t)
	submitted := make(chan map[string]any, 1)
	e := newEnv(t, Config{}, Options{Now: time.Now,
		OnWorkOrder: func(_ context.Context, seat, callID string, fields json.RawMessage) (WorkOrderStatus, error) {
			var f map[string]any
			if err := json.Unmarshal(fields, &f); err != nil {
				return WorkOrderStatus{}, err
			}
			f["_seat"], f["_call"] = seat, callID
			submitted <- f
			return WorkOrderStatus{ID: 1, Key: callID + ":v1", Version: 1, State: "pending"}, nil
		}})
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "seat-01"),
		chromedp.SetValue(`#password`, seatPass),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitReady(`#workorder[data-live="1"]`), // the form's own socket is subscribed
	))
	e.publish(Event{Type: TypeOffered, CallID: "c1", Seat: "seat-01", Data: CallOfferedData{From: "13905801111"}})
	e.publish(Event{Type: TypeWorkOrderDraft, CallID: "c1", Seat: "seat-01", Data: map[string]any{
		"call_id": "c1", "caller_number": "13905801111", "place": "阳光花园3号楼", "summary": "市民来电反映：阳光花园停水。",
		"summary_source": "extractive"}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#workorder[data-drafts="1"]`)))
	value := func(name string) string {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('[name="`+name+`"]').value`))
		require.NoError(t, err)
		return v
	}
	require.Equal(t, "阳光花园3号楼", value("wo-place"))
	require.Equal(t, "13905801111", value("wo-caller_number"))

	// the agent corrects the summary; the next draft fills the rest and leaves it alone
	require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(`[name="wo-summary"]`, "诉求：尽快恢复供水。")))
	e.publish(Event{Type: TypeWorkOrderDraft, CallID: "c1", Seat: "seat-01", Data: map[string]any{
		"call_id": "c1", "caller_number": "13905801111", "callback_number": "13805801234", "place": "阳光花园3号楼",
		"summary": "市民来电反映：阳光花园三号楼停水一天。", "summary_source": "llm", "urgent": true, "complete": true}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#workorder[data-complete="1"]`)))
	require.Equal(t, "13805801234", value("wo-callback_number"))
	require.Equal(t, "市民来电反映：阳光花园停水。诉求：尽快恢复供水。", value("wo-summary"))

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`.wo-submit`), chromedp.WaitVisible(`.wo-status[data-state="pending"]`)))
	f := <-submitted
	require.Equal(t, "seat-01", f["_seat"])
	require.Equal(t, "c1", f["_call"])
	require.Equal(t, "市民来电反映：阳光花园停水。诉求：尽快恢复供水。", f["summary"])
	require.Equal(t, "13805801234", f["callback_number"])
	require.Equal(t, true, f["urgent"])
	require.NotContains(t, f, "complete", "only the order's fields are sent")

	e.publish(Event{Type: TypeWorkOrderStatus, CallID: "c1", Seat: "seat-01", Data: WorkOrderStatus{ID: 1, Key: "c1:v1", State: "delivered", OrderNo: "GD-0042"}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`.wo-status[data-state="delivered"]`)))
	require.Contains(t, text(t, bctx, `.wo-status`), "GD-0042")
}

// The wallboard shows an urgent call the moment it is published and the dead letters, and
// its retry button queues one again.
func TestBrowserWallboardWorkOrders(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{Now: time.Now})
	ctx := context.Background()
	o, _, err := e.st.EnqueueOrder(ctx, store.NewOrder{CallID: "c9", Seat: "seat-02", At: time.Now(),
		Build: func(v int) (string, json.RawMessage, error) { return "c9:v1", json.RawMessage(`{}`), nil }})
	require.NoError(t, err)
	require.NoError(t, e.st.OrderDead(ctx, o.ID, "HTTP 503", time.Now()))
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`.wo-dead[data-id="1"] .wo-retry`),
	))
	require.Contains(t, text(t, bctx, `.wo-dead`), "HTTP 503")

	// the dead letters are listed once the page's socket has its hello: the alert is live
	e.publish(Event{Type: TypeWorkOrderUrgent, CallID: "c10", Data: WorkOrderUrgentData{Seat: "seat-03", Reasons: []string{"燃气泄漏"}, Place: "阳光花园"}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`.wo-urgent[data-call="c10"]`)))
	require.Contains(t, text(t, bctx, `.wo-urgent`), "燃气泄漏")

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`.wo-retry`), chromedp.WaitVisible(`#workorders[data-dead="0"]`)))
	pending, err := e.st.Orders(ctx, store.WorkOrderFilter{State: store.OrderPending})
	require.NoError(t, err)
	require.Len(t, pending, 1)
}
