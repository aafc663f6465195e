// Package browsertest drives Debian's headless Chromium from Go tests with chromedp: it
// starts a browser with a fresh profile, opens isolated tabs (one per user, as if on
// separate machines) and waits on page conditions instead of sleeping.
package browsertest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// hangGuard bounds a browser's whole life, so a hung Chromium cannot hang the test run.
const hangGuard = 3 * time.Minute

// Start launches headless Chromium (headless, no sandbox, no GPU, no first-run, background
// networking, component updates and sync off, a fresh user-data-dir) and returns the
// context of its first tab. The browser stops when the test ends. Tests that need it are
// skipped when Chromium is not installed.
func Start(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("needs %s (Debian package chromium): %v", ChromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	guard, cancelGuard := context.WithTimeout(context.Background(), hangGuard)
	actx, cancelAlloc := chromedp.NewExecAllocator(guard, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelGuard()
	})
	require.NoError(t, chromedp.Do(bctx), "starting %s", ChromiumPath)
	return bctx
}

// Isolated opens a tab of browser in a browser context of its own: cookies, local and
// session storage are not shared with other tabs, as with a second user on another
// machine. The tab closes when the test ends.
func Isolated(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "opening a tab")
	return ctx
}

// pollEvery is how often Until re-evaluates its condition. A timer, not animation frames:
// a tab in the background gets no animation frames.
const pollEvery = 50 * time.Millisecond

// Until waits until the JavaScript expression expr is truthy in the page of ctx, failing
// the test after timeout with msg and what the page showed then. The timeout only bounds
// a broken run; it is not a measure of speed.
func Until(t testing.TB, ctx context.Context, expr string, timeout time.Duration, msg string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(pollEvery), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			err = errors.New("timed out")
		}
		require.FailNow(t, msg, "waiting for %s: %v\npage text:\n%s", expr, err, PageText(ctx))
	}
}

// Eval evaluates expr in the page of ctx and decodes its value into T.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluating %s", expr)
	return v
}

// PageText is the visible text of the page of ctx, for failure messages; it never fails.
func PageText(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(page text unavailable: " + err.Error() + ")"
	}
	return s
}
