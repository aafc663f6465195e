package dispatch

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// robot is an in-test stand-in for a group robot: it records each request and answers
// from a script (status, body), the last answer repeating.
type robot struct {
	mu      sync.Mutex
	answers [][2]string
	got     []*http.Request
	bodies  []map[string]any
}

func (r *robot) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := io.ReadAll(req.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	r.got = append(r.got, req)
	r.bodies = append(r.bodies, m)
	a := r.answers[min(len(r.got), len(r.answers))-1]
	if a[0] == "500" {
		w.WriteHeader(http.StatusInternalServerError)
	}
	io.WriteString(w, a[1])
}

func testAlert() Alert {
	return Alert{ID: "hotspot-1", Department: "market-regulation", Issue: "电梯故障", IssueID: "lift-fault", Place: "阳光花园3号楼",
		CallIDs: []string{"a", "b", "c"}, State: AlertRaised, At: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}
}

func newTestWebhook(t *testing.T, cfg WebhookConfig, r *robot, now time.Time) (*Webhook, *[]time.Duration) {
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL + "/robot/send?access_token=tok"
	w, err := NewWebhook(cfg, srv.Client(), func() time.Time { return now })
	require.NoError(t, err)
	var waits []time.Duration
	w.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return w, &waits
}

func TestWebhookWeCom(t *testing.T) {
	r := &robot{answers: [][2]string{{"200", `{"errcode":0,"errmsg":"ok"}`}}}
	w, _ := newTestWebhook(t, WebhookConfig{Kind: WebhookWeCom}, r, time.Now())
	require.NoError(t, w.Send(context.Background(), testAlert()))
	require.Len(t, r.got, 1)
	require.Equal(t, "application/json; charset=utf-8", r.got[0].Header.Get("Content-Type"))
	require.Equal(t, "markdown", r.bodies[0]["msgtype"])
	content := r.bodies[0]["markdown"].(map[string]any)["content"].(string)
	for _, want := range []string{"电梯故障", "阳光花园3号楼", "3 通", "raised"} {
		require.Contains(t, content, want)
	}
	require.NotContains(t, w.String(), "tok", "the key stays out of logs")
}

func TestWebhookDingTalkSigned(t *testing.T) {
	r := &robot{answers: [][2]string{{"200", `{"errcode":0,"errmsg":"ok"}`}}}
	now := time.UnixMilli(1764552600123)
	w, _ := newTestWebhook(t, WebhookConfig{Kind: WebhookDingTalk, Secret: "SECabc"}, r, now)
	require.NoError(t, w.Send(context.Background(), testAlert()))
	q := r.got[0].URL.Query()
	require.Equal(t, "tok", q.Get("access_token"))
	require.Equal(t, "1764552600123", q.Get("timestamp"))
	mac := hmac.New(sha256.New, []byte("SECabc"))
	mac.Write([]byte("1764552600123\nSECabc"))
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), q.Get("sign"))
	md := r.bodies[0]["markdown"].(map[string]any)
	require.Contains(t, md["title"], "电梯故障")
	require.Contains(t, md["text"], "阳光花园3号楼")
}

func TestWebhookSendMarkdown(t *testing.T) {
	r := &robot{answers: [][2]string{{"500", ""}, {"200", `{"errcode":0,"errmsg":"ok"}`}}}
	w, waits := newTestWebhook(t, WebhookConfig{Kind: WebhookDingTalk, Secret: "SECabc"}, r, time.Now())
	require.NoError(t, w.SendMarkdown(context.Background(), "12345 日报", "- 呼入：1,234"))
	require.Len(t, r.got, 2, "retried like an alert")
	require.Len(t, *waits, 1)
	require.NotEmpty(t, r.got[1].URL.Query().Get("sign"), "signed like an alert")
	md := r.bodies[1]["markdown"].(map[string]any)
	require.Equal(t, "12345 日报", md["title"])
	require.Equal(t, "- 呼入：1,234", md["text"])
}

func TestWebhookRetries(t *testing.T) {
	// Busy, then rate-limited, then accepted: three attempts, waits doubling.
	r := &robot{answers: [][2]string{{"500", ""}, {"200", `{"errcode":130101,"errmsg":"send too fast"}`}, {"200", `{"errcode":0}`}}}
	w, waits := newTestWebhook(t, WebhookConfig{Kind: WebhookDingTalk, Backoff: time.Second}, r, time.Now())
	require.NoError(t, w.Send(context.Background(), testAlert()))
	require.Len(t, r.got, 3)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, *waits)

	// A refusal a retry cannot fix is returned at once.
	r = &robot{answers: [][2]string{{"200", `{"errcode":310000,"errmsg":"sign not match"}`}}}
	w, waits = newTestWebhook(t, WebhookConfig{Kind: WebhookDingTalk}, r, time.Now())
	err := w.Send(context.Background(), testAlert())
	require.ErrorIs(t, err, ErrWebhook)
	require.ErrorContains(t, err, "310000")
	require.Len(t, r.got, 1)
	require.Empty(t, *waits)

	// Retries run out.
	r = &robot{answers: [][2]string{{"500", ""}}}
	w, _ = newTestWebhook(t, WebhookConfig{Kind: WebhookWeCom, Retries: 2}, r, time.Now())
	require.ErrorContains(t, w.Send(context.Background(), testAlert()), "attempt 3")
	require.Len(t, r.got, 3)

	// Not the robot's JSON (a captive portal, a proxy page).
	r = &robot{answers: [][2]string{{"200", "<html>login</html>"}}}
	w, _ = newTestWebhook(t, WebhookConfig{Kind: WebhookWeCom}, r, time.Now())
	require.ErrorContains(t, w.Send(context.Background(), testAlert()), "not the robot's JSON")
}

func TestWebhookCancelled(t *testing.T) {
	r := &robot{answers: [][2]string{{"500", ""}}}
	w, _ := newTestWebhook(t, WebhookConfig{Kind: WebhookWeCom}, r, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	w.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return sleepCtx(ctx, d) }
	require.ErrorIs(t, w.Send(ctx, testAlert()), context.Canceled)
	require.Len(t, r.got, 1)
}

func TestNewWebhookErrors(t *testing.T) {
	for _, cfg := range []WebhookConfig{{Kind: "slack", URL: "https://x/"}, {Kind: WebhookWeCom, URL: "ftp://x/"}, {Kind: WebhookWeCom, URL: "::"}} {
		_, err := NewWebhook(cfg, nil, time.Now)
		require.ErrorIs(t, err, ErrWebhook, "%+v", cfg)
	}
	w, err := NewWebhook(WebhookConfig{Kind: WebhookWeCom, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret"}, nil, time.Now)
	require.NoError(t, err)
	require.False(t, strings.Contains(w.String(), "secret"))
}
