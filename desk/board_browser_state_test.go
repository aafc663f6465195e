package desk

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
)

// openWallboard logs an admin into the wallboard at base and waits for its socket.
func openWallboard(t *testing.T, bctx context.Context, base string) {
	t.Helper()
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "admin"),
		chromedp.SetValue(`#password`, "adminpw"),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#conn.ok`),
	))
}

// A wallboard opened after a hotspot alert and a poor-quality flag were raised shows
// both at once, with no new event, and so does a reload (a kiosk's browser starting
// again). A gateway that starts again on the same SQLite file still shows the open alert,
// but not one whose window passed meanwhile.
func TestBrowserWallboardShowsStateWhenOpened(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{}, Options{SeatStates: func() map[string]string { return map[string]string{"seat-02": "talking"} }})
	now := e.clock.Now()
	e.publish(liftAlert("hotspot-1", "raised", 3, now))
	e.publish(Event{Type: TypeHotspot, Data: HotspotData{ID: "hotspot-2", State: "raised", Issue: "停水", Place: "海韵家园",
		Count: 4, WindowS: 3600, LastCallAt: now.Add(-50 * time.Minute)}})
	e.publish(poorCall("c2", "seat-02", true))

	shown := func(what string) {
		t.Helper()
		browsertest.Until(t, bctx, `document.querySelector('#alerts li[data-alert="hotspot-1"]') &&
			document.querySelector('#alerts li[data-alert="hotspot-2"]') &&
			document.querySelector('#quality li.quality-poor[data-call="c2"] .quality-badge') &&
			document.querySelector('.seat[data-seat="seat-02"][data-quality="poor"] .quality-badge')`,
			20*time.Second, what+": the open alerts and the poor call shown with no new event")
		lift := text(t, bctx, `#alerts li[data-alert="hotspot-1"]`)
		require.Contains(t, lift, "电梯故障 @ 阳光花园3号楼", what)
		require.Contains(t, lift, "×3", what)
		require.Contains(t, text(t, bctx, `#quality li[data-call="c2"]`), "坐席 MOS 2.90 丢包 8%", what)
	}
	openWallboard(t, bctx, e.srv.URL)
	shown("opened")
	require.NoError(t, chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(`#conn.ok`)))
	shown("reloaded")

	require.NoError(t, e.desk.Close())
	e.clock.Add(20 * time.Minute) // hotspot-2's window passes
	again := restartDesk(t, e)
	openWallboard(t, bctx, again.srv.URL)
	browsertest.Until(t, bctx, `document.querySelector('#alerts li[data-alert="hotspot-1"]')`, 20*time.Second,
		"the open alert shown after a restart")
	require.Contains(t, text(t, bctx, `#alerts li[data-alert="hotspot-1"]`), "电梯故障 @ 阳光花园3号楼")
	// a live alert after the state: once it shows, all the state has been drawn
	again.publish(Event{Type: TypeHotspot, Data: HotspotData{ID: "hotspot-3", State: "raised", Issue: "路灯不亮", Place: "新港路", Count: 3}})
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(`#alerts li[data-alert="hotspot-3"]`)))
	n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#alerts li[data-alert="hotspot-2"]').length`))
	require.NoError(t, err)
	require.Zero(t, n, "an alert whose window passed is not shown")
}
