package desk

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
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
