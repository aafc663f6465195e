package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
	"lianxin/store"
)

// boardIssues are issue types for the wallboard's chart, more than it shows.
var boardIssues = []Dept{
	{ID: "lift-fault", Name: "电梯故障", NameEN: "lift breakdown"}, {ID: "water-outage", Name: "停水", NameEN: "water outage"},
	{ID: "noise", Name: "施工噪音扰民", NameEN: "construction noise"}, {ID: "sewage", Name: "污水外溢", NameEN: "sewage overflow"},
	{ID: "bus", Name: "公交停运", NameEN: "bus suspended"}, {ID: "power", Name: "停电", NameEN: "power outage"},
	{ID: "heating", Name: "供暖不热", NameEN: "heating too cold"}, {ID: "parking", Name: "占道停车", NameEN: "parking on the road"},
	{ID: "garbage", Name: "垃圾清运不及时", NameEN: "rubbish not collected"}, {ID: "wage", Name: "拖欠工资", NameEN: "unpaid wages"},
}

// seedBoardDay writes a busy day so far: calls in every hour up to now, about all the
// issue types, most answered.
func seedBoardDay(t *testing.T, st *store.SQLite, now time.Time) {
	t.Helper()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	var rows []store.Row
	for i := 0; ; i++ {
		at := day.Add(time.Duration(i) * 7 * time.Minute)
		if !at.Before(now) {
			break
		}
		id := fmt.Sprintf("b%04d", i)
		rows = append(rows, store.Call{ID: id, Seat: fmt.Sprintf("seat-%02d", i%60+1), OfferedAt: at})
		if i%5 != 0 {
			rows = append(rows, store.CallAnswered{CallID: id, Seat: fmt.Sprintf("seat-%02d", i%60+1), At: at.Add(15 * time.Second)})
		}
		// the first issue types are the most common
		skew := []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9}
		data, err := json.Marshal(map[string]string{"issue": boardIssues[skew[i%len(skew)]].ID})
		require.NoError(t, err)
		rows = append(rows, store.CallEnded{CallID: id, At: at.Add(3 * time.Minute)},
			store.WorkOrderDraft{CallID: id, Data: data, At: at.Add(3 * time.Minute)},
			store.Decision{CallID: id, Department: fmt.Sprintf("dept-%02d", i%12), At: at.Add(3 * time.Minute)})
	}
	require.NoError(t, st.Write(context.Background(), rows...))
}

// TestBrowserWallboardBigScreen: at 1920×1080 the wallboard fills the screen with no
// scrollbar, in the light and the dark theme and in both languages, with its charts of
// calls per hour and issue types drawn and its Chinese drawn in glyphs, however full its
// seats, departments, alerts and urgent calls are.
func TestBrowserWallboardBigScreen(t *testing.T) {
	bctx := browser(t)
	states := map[string]string{}
	for i := 1; i <= 60; i++ {
		states[fmt.Sprintf("seat-%02d", i)] = []string{"available", "talking", "wrapup", "away", "ringing", "offline"}[i%6]
	}
	var depts []Dept
	for i := range 12 {
		depts = append(depts, Dept{ID: fmt.Sprintf("dept-%02d", i), Name: fmt.Sprintf("第%d区城市管理执法局", i+1), NameEN: fmt.Sprintf("Urban management bureau, district %d", i+1)})
	}
	e := newEnv(t, Config{}, Options{Now: time.Now, SeatStates: func() map[string]string { return states },
		Queue:       func() (int, time.Duration) { return 12, 3*time.Minute + 25*time.Second },
		Departments: func() []Dept { return depts }, IssueTypes: func() []Dept { return boardIssues }})
	seedBoardDay(t, e.st, time.Now())
	for i := range 6 { // work orders the work-order system never took
		o, _, err := e.st.EnqueueOrder(context.Background(), store.NewOrder{CallID: fmt.Sprint("b000", i), At: time.Now(),
			Build: func(v int) (string, json.RawMessage, error) {
				return fmt.Sprintf("order-%d-%d", i, v), json.RawMessage(`{}`), nil
			}})
		require.NoError(t, err)
		require.NoError(t, e.st.OrderDead(context.Background(), o.ID, "HTTP 503 from the work-order system", time.Now()))
	}

	require.NoError(t, chromedp.Do(bctx,
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`.seat[data-seat="seat-60"]`),
	))
	// a busy hour: many alerts and urgent calls at once
	for i := range 30 {
		e.publish(Event{Type: TypeHotspot, Data: HotspotData{ID: fmt.Sprint("hotspot-", i), State: "raised",
			Issue: "污水外溢", Place: fmt.Sprintf("阳光花园%d号楼东侧人行道", i), Count: 3 + i}})
		e.publish(Event{Type: TypeWorkOrderUrgent, CallID: fmt.Sprint("u", i), Seat: "seat-01",
			Data: map[string]any{"reasons": []string{"燃气泄漏"}, "seat": "seat-01", "place": "幸福小区", "summary": "市民来电反映：楼道有很浓的煤气味。"}})
	}
	browsertest.Until(t, bctx, `document.querySelectorAll('#alerts li').length === 30 && document.querySelectorAll('.wo-urgent').length === 30 &&
		document.querySelectorAll('.wo-dead').length === 6`, 20*time.Second, "alerts, urgent calls and dead letters shown")

	checkBoard := func(what string) {
		t.Helper()
		browsertest.Until(t, bctx, browsertest.CanvasPainted(`#chart-hours`), 20*time.Second, what+": calls per hour drawn")
		browsertest.Until(t, bctx, browsertest.CanvasPainted(`#chart-issues`), 20*time.Second, what+": issue types drawn")
		size := browsertest.Eval[[4]int](t, bctx, `[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight, innerWidth, innerHeight]`)
		require.Equal(t, [2]int{1920, 1080}, [2]int{size[2], size[3]}, what)
		require.LessOrEqual(t, size[1], size[3], "%s: no vertical scrollbar at 1920×1080", what)
		require.LessOrEqual(t, size[0], size[2], "%s: no horizontal scrollbar at 1920×1080", what)
		// large type: the figures are readable from across the room
		fig := browsertest.Eval[float64](t, bctx, `parseFloat(getComputedStyle(document.getElementById('offered')).fontSize)`)
		require.GreaterOrEqual(t, fig, 40.0, "%s: figures' type size", what)
	}
	checkBoard("light")
	require.Equal(t, "8", browsertest.Eval[string](t, bctx, `String(Chart.getChart(document.getElementById('chart-issues')).data.labels.length)`),
		"the top eight issue types")
	require.Equal(t, "电梯故障", browsertest.Eval[string](t, bctx, `Chart.getChart(document.getElementById('chart-issues')).data.labels[0]`))
	browsertest.CJKDrawn(t, bctx, `header h1`)
	browsertest.CJKDrawn(t, bctx, `.seats-panel h2`) // not the live lists: they are redrawn
	lightPanel := browsertest.Eval[string](t, bctx, `getComputedStyle(document.querySelector('.panel')).backgroundColor`)

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#theme`), chromedp.WaitVisible(`body.dark`)))
	checkBoard("dark")
	require.NotEqual(t, lightPanel, browsertest.Eval[string](t, bctx, `getComputedStyle(document.querySelector('.panel')).backgroundColor`))
	require.Equal(t, "浅色", text(t, bctx, `#theme`))
	tick := browsertest.Eval[string](t, bctx, `Chart.getChart(document.getElementById('chart-hours')).options.scales.x.ticks.color`)
	require.Equal(t, "#e8eef5", tick, "the charts take the dark theme's colours")

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#lang`)))
	browsertest.Until(t, bctx, `Chart.getChart(document.getElementById('chart-issues')).data.labels[0] === 'lift breakdown'`, 10*time.Second, "English chart labels")
	checkBoard("dark, English")
	require.Equal(t, "Light", text(t, bctx, `#theme`))
	require.Equal(t, "Urgent calls", text(t, bctx, `#workorders h2`))
	require.Contains(t, text(t, bctx, `#alerts li`), "Acknowledge", "alerts relabelled")

	// the theme is kept, and a kiosk can ask for one in the address
	require.NoError(t, chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(`body.dark`), chromedp.WaitVisible(`#conn.ok`)))
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(e.srv.URL+"/admin?theme=light"), chromedp.WaitVisible(`#conn.ok`)))
	require.False(t, browsertest.Eval[bool](t, bctx, `document.body.classList.contains('dark')`))
	checkBoard("light, English")
}
