package desk

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// recordingPhones is a phone side that keeps every message the pages send.
type recordingPhones struct {
	mu   sync.Mutex
	msgs []string
}

func (p *recordingPhones) open(_ PhoneClient, _ func(string, any) bool) PhoneLink {
	return recordingLink{p}
}

type recordingLink struct{ p *recordingPhones }

func (l recordingLink) Message(_ context.Context, typ string, msg json.RawMessage) error {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.p.msgs = append(l.p.msgs, string(msg))
	return nil
}

func (recordingLink) Close() error { return nil }

func (p *recordingPhones) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

// A page opened with #token=… logs in by itself; when the browser refuses the microphone
// it says so in words the agent can act on, and does not make itself the seat's phone
// (the seat's calls must not ring a page that cannot talk).
func TestBrowserRefusedMicrophone(t *testing.T) {
	// a microphone exists (a fake one); the permission to use it is what is refused
	bctx := browser(t, chromedp.Flag("use-fake-device-for-media-stream", true))
	ph := &recordingPhones{}
	e := newEnv(t, Config{}, Options{OpenPhone: ph.open, Now: time.Now,
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "offline"} },
		SeatPhone:  func(string) string { return "" }})
	tok := e.login("seat-01", seatPass)
	_, err := chromedp.CallBrowser(bctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "microphone"}, Setting: cdpbrowser.PermissionSettingDenied})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/#token="+tok+"&autoanswer=1"),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`#phone-kind`),
	))
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById('phone-error').textContent !== ''`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "no microphone error shown")
	require.Contains(t, text(t, bctx, `#phone-error`), "浏览器拒绝了麦克风")
	require.Equal(t, "seat-01", text(t, bctx, `#seat-name`), "logged in from the fragment")
	url, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)
	require.NotContains(t, url, tok, "the token is wiped from the address bar")
	checked, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById('phone-on').checked`))
	require.NoError(t, err)
	require.False(t, checked)
	require.Equal(t, "无（不会振铃）", text(t, bctx, `#phone-kind`))
	for _, m := range ph.all() {
		require.NotContains(t, m, `"on":true`, "a page without a microphone never registers as a phone")
	}
}

// Auto-answer is the seat's setting, not one browser's: ticked on one machine, it is ticked
// when the agent logs in on another (a fresh browser profile), and the gateway holds it.
func TestBrowserAutoAnswerFollowsTheSeat(t *testing.T) {
	e := newEnv(t, Config{}, Options{OpenPhone: (&recordingPhones{}).open, Now: time.Now,
		SeatStates: func() map[string]string { return map[string]string{"seat-01": "offline"} },
		SeatPhone:  func(string) string { return "" }})
	first := browser(t, chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true))
	require.NoError(t, chromedp.Do(first,
		chromedp.Navigate(e.srv.URL+"/#token="+e.login("seat-01", seatPass)),
		chromedp.WaitVisible(`#conn.ok`),
		chromedp.WaitVisible(`#auto-answer`),
	))
	checked := func(bctx context.Context) bool {
		on, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById('auto-answer').checked`))
		require.NoError(t, err)
		return on
	}
	require.False(t, checked(first), "auto-answer starts off")
	require.NoError(t, chromedp.Do(first, chromedp.Click(`#auto-answer`)))
	tok := e.login("seat-01", seatPass)
	require.Eventually(t, func() bool {
		_, body := e.do("GET", "/api/seats/seat-01", tok, nil)
		return strings.Contains(string(body), `"auto_answer":true`)
	}, 10*time.Second, 50*time.Millisecond, "the tick reached the gateway")

	second := browser(t, chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true))
	require.NoError(t, chromedp.Do(second,
		chromedp.Navigate(e.srv.URL+"/#token="+tok),
		chromedp.WaitVisible(`#conn.ok`),
	))
	_, err := chromedp.Run(second, chromedp.Poll[bool](`document.getElementById('auto-answer').checked`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "another browser shows the seat's auto-answer on")
}
