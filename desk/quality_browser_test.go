package desk

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// The wallboard flags a call whose audio turns poor, with a badge in either language, and
// the seat's tile when the poor leg is the agent's; the flags go when the call recovers or
// ends.
func TestBrowserWallboardFlagsPoorQuality(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "talking", "seat-02": "talking"} },
		Now:        time.Now,
	})
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`.seat[data-seat="seat-01"].state-talking`),
	))
	rtt := 180.0
	poorCaller := CallQualityData{Poor: true, Legs: []LegQualityData{
		{Leg: "caller", Rated: true, Poor: true, MOS: 3.1, Loss: 0.12, JitterMS: 4},
		{Leg: "agent", Rated: true, MOS: 4.4, JitterMS: 1}}}
	poorSeat := CallQualityData{Poor: true, SeatPoor: true, Legs: []LegQualityData{
		{Leg: "caller", Rated: true, MOS: 4.4},
		{Leg: "agent", Rated: true, Poor: true, MOS: 2.9, Loss: 0.08, RTTMS: &rtt}}}
	e.publish(Event{Type: TypeQuality, CallID: "c1", Seat: "seat-01", Data: poorCaller})
	e.publish(Event{Type: TypeQuality, CallID: "c2", Seat: "seat-02", Data: poorSeat})

	require.NoError(t, chromedp.Do(bctx,
		chromedp.WaitVisible(`#quality li.quality-poor[data-call="c1"] .quality-badge`),
		chromedp.WaitVisible(`.seat[data-seat="seat-02"][data-quality="poor"] .quality-badge`),
	))
	c1 := text(t, bctx, `#quality li[data-call="c1"]`)
	require.Contains(t, c1, "音质差")
	require.Contains(t, c1, "主叫 MOS 3.10 丢包 12%")
	require.Contains(t, text(t, bctx, `#quality li[data-call="c2"]`), "坐席 MOS 2.90 丢包 8% 往返 180ms")
	flagged, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('.seat[data-quality="poor"]').length`))
	require.NoError(t, err)
	require.Equal(t, 1, flagged, "only the seat whose own leg is poor")
	require.Contains(t, text(t, bctx, `.seat[data-seat="seat-02"]`), "音质差")

	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#lang`)))
	require.Contains(t, text(t, bctx, `#quality li[data-call="c1"]`), "Poor audio")
	require.Contains(t, text(t, bctx, `#quality li[data-call="c1"]`), "caller MOS 3.10 loss 12%")
	require.Contains(t, text(t, bctx, `.seat[data-seat="seat-02"]`), "Poor audio")

	// c1 recovers, c2 ends: no flag is left
	e.publish(Event{Type: TypeQuality, CallID: "c1", Seat: "seat-01", Data: CallQualityData{Legs: poorCaller.Legs[1:]}})
	e.publish(Event{Type: TypeEnded, CallID: "c2", Seat: "seat-02", Data: CallEndedData{Reason: "completed"}})
	require.NoError(t, chromedp.Do(bctx,
		chromedp.WaitNotPresent(`#quality li`),
		chromedp.WaitNotPresent(`.seat[data-quality]`),
		chromedp.WaitNotPresent(`.quality-badge`),
		chromedp.WaitNotVisible(`#quality`),
	))
}

// A call's history shows each leg's audio quality as the call's record keeps it.
func TestBrowserCallHistoryShowsQuality(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{Now: time.Now})
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	end := at.Add(time.Minute)
	rtt, peerLoss := 41.4, 0.0
	require.NoError(t, e.st.Write(context.Background(),
		store.Call{ID: "q1", Seat: "seat-01", From: "13800000000", OfferedAt: at},
		store.CallAnswered{CallID: "q1", Seat: "seat-01", At: at},
		store.Leg{CallID: "q1", Leg: "caller", Codec: "PCMU", StartedAt: at, EndedAt: &end,
			Quality: &store.LegQuality{PacketsLost: 300, Loss: 0.0996, JitterMS: 12.6, MOS: 3.36}},
		store.Leg{CallID: "q1", Leg: "agent", Codec: "PCMU", StartedAt: at, EndedAt: &end,
			Quality: &store.LegQuality{JitterMS: 1, PeerLoss: &peerLoss, RTTMS: &rtt, MOS: 4.39}},
		store.CallEnded{CallID: "q1", At: end, Reason: "completed"},
	))
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/history"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.Click(`#calls tr[data-call="q1"]`),
		chromedp.WaitVisible(`#call-quality`),
	))
	require.Equal(t, "来电 MOS 3.36 · 丢包 10.0% | 坐席 MOS 4.39 · 丢包 0.0% · 往返 41 ms", text(t, bctx, `#call-quality`))
}
