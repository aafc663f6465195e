package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/browsertest"
)

// TestHTMLFileInBrowser opens a report file as someone would from the reports folder:
// with no server and no network, Chinese is drawn in glyphs and every chart is painted.
func TestHTMLFileInBrowser(t *testing.T) {
	chromium(t)
	r := newReports(t, seeded(t), Config{Redact: true})
	f := mk(t, r, "weekly", "html", "zh")
	path := filepath.Join(t.TempDir(), f.Name)
	require.NoError(t, os.WriteFile(path, f.Body, 0o600))

	ctx := browsertest.Start(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("file://"+path)))
	browsertest.Until(t, ctx, `document.body.dataset.ready === '1'`, 30*time.Second, "the charts are drawn")
	n := browsertest.Eval[int](t, ctx, `document.querySelectorAll('canvas[data-chart]').length`)
	require.Equal(t, 4, n)
	for i := 1; i <= n; i++ {
		sel := `.rchart:nth-child(` + string(rune('0'+i)) + `) canvas`
		require.True(t, browsertest.Eval[bool](t, ctx, browsertest.CanvasPainted(sel)), "chart %d is blank", i)
	}
	browsertest.CJKDrawn(t, ctx, `.report-head h1`)
	browsertest.CJKDrawn(t, ctx, `[data-section="department"] tbody tr`)
}
