package desk

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
	"lianxin/store"
)

// TestBrowserRevealOriginal: on the call history, an admin holding pii:reveal shows a
// call's original transcript after giving a reason, which is in the audit log first; an
// admin without the permission, and the call's agent, have no such button.
func TestBrowserRevealOriginal(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, Config{Users: map[string]string{"admin": adminHash, "ops": adminHash}, PIIReveal: []string{"admin"}},
		Options{Now: time.Now})
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, e.st.Write(context.Background(),
		store.Call{ID: "p1", Seat: "seat-01", From: "13800000000", OfferedAt: at},
		store.CallAnswered{CallID: "p1", Seat: "seat-01", At: at},
		store.Utterance{CallID: "p1", Seat: "seat-01", Channel: "caller", UtteranceID: "caller-1",
			Text: "我的电话是13812345678，楼下污水外溢", StartMS: 0, EndMS: 3000, At: at},
		store.CallEnded{CallID: "p1", At: at.Add(time.Minute)},
	))
	open := func(ctx context.Context, user, pass string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/history"),
			chromedp.WaitVisible(`#login`),
			chromedp.SetValue(`#user`, user),
			chromedp.SetValue(`#password`, pass),
			chromedp.Click(`#login-btn`),
			chromedp.WaitVisible(`#calls tr[data-call="p1"]`),
			chromedp.Click(`#calls tr[data-call="p1"]`),
			chromedp.WaitVisible(`#lines li`),
		))
		require.NotContains(t, text(t, ctx, `#lines li`), "13812345678", "%s reads the transcript masked", user)
	}
	visible := func(ctx context.Context, sel string) bool {
		return browsertest.Eval[bool](t, ctx, `(() => { const el = document.querySelector('`+sel+`'); return !!el && el.offsetParent !== null; })()`)
	}

	open(bctx, "admin", "adminpw")
	require.True(t, visible(bctx, `#reveal-btn`))
	require.Equal(t, "显示原文", text(t, bctx, `#reveal-btn`))
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(`#reveal-btn`),
		chromedp.WaitVisible(`#reveal-reason`),
		chromedp.Click(`#reveal-ok`), // no reason given: the form does not send
	))
	entries, err := e.st.AuditLog(context.Background(), store.AuditFilter{Action: store.AuditReveal})
	require.NoError(t, err)
	require.Empty(t, entries, "nothing revealed without a reason")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetValue(`#reveal-reason`, "市民投诉回访核实号码"),
		chromedp.Click(`#reveal-ok`),
		chromedp.WaitVisible(`#lines li.original`),
		chromedp.WaitVisible(`#reveal-notice`),
	))
	require.Contains(t, text(t, bctx, `#lines li`), "我的电话是13812345678")
	entries, err = e.st.AuditLog(context.Background(), store.AuditFilter{Action: store.AuditReveal})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "admin", entries[0].User)
	require.Equal(t, "p1", entries[0].CallID)
	require.Contains(t, entries[0].Detail, "市民投诉回访核实号码")

	// hidden again on request, and the control speaks English too
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#reveal-btn`), chromedp.WaitNotPresent(`#lines li.original`)))
	require.NotContains(t, text(t, bctx, `#lines li`), "13812345678")
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(`#lang`)))
	require.Equal(t, "Show original", text(t, bctx, `#reveal-btn`))

	for _, who := range [][2]string{{"ops", "adminpw"}, {"seat-01", seatPass}} {
		tab := browsertest.Isolated(t, bctx)
		open(tab, who[0], who[1])
		require.False(t, visible(tab, `#reveal-btn`), "%s holds no pii:reveal: no button", who[0])
	}
}
