package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook robot kinds.
const (
	WebhookWeCom    = "wecom"    // 企业微信群机器人
	WebhookDingTalk = "dingtalk" // 钉钉自定义机器人
)

// WebhookConfig says where alerts go; zero Retries and Backoff take the defaults.
type WebhookConfig struct {
	Kind    string        // WebhookWeCom or WebhookDingTalk
	URL     string        // the robot's URL, with its key= or access_token=
	Secret  string        // DingTalk's signing secret (SEC…), when the robot is signed
	Retries int           // attempts after the first (default 3)
	Backoff time.Duration // wait before the first retry, doubled after each (default 1s)
}

// Webhook posts hotspot alerts to a group robot, with retries. It is safe for concurrent
// use.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
	now    func() time.Time
	// sleep waits between attempts; tests replace it so that retries take no time.
	sleep func(context.Context, time.Duration) error
}

// ErrWebhook is wrapped by every failure to deliver an alert.
var ErrWebhook = errors.New("dispatch: webhook")

// NewWebhook checks the config; client nil means http.DefaultClient, now is the clock that
// signs DingTalk requests.
func NewWebhook(cfg WebhookConfig, client *http.Client, now func() time.Time) (*Webhook, error) {
	if cfg.Kind != WebhookWeCom && cfg.Kind != WebhookDingTalk {
		return nil, fmt.Errorf("%w: kind %q (want %s or %s)", ErrWebhook, cfg.Kind, WebhookWeCom, WebhookDingTalk)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q is not an http(s) URL", ErrWebhook, cfg.URL)
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Webhook{cfg: cfg, client: client, now: now, sleep: sleepCtx}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// String names the webhook for logs without its key.
func (w *Webhook) String() string {
	u, _ := url.Parse(w.cfg.URL)
	return fmt.Sprintf("webhook(%s %s%s)", w.cfg.Kind, u.Host, u.Path)
}

// Send posts the alert as a markdown message. Network errors, HTTP 429 and 5xx, and the
// robots' rate-limit answers are retried with doubling waits; any other refusal (a bad
// key, a signature or keyword mismatch) is returned at once, since a retry cannot fix it.
func (w *Webhook) Send(ctx context.Context, a Alert) error {
	title, text := alertMessage(a)
	return w.SendMarkdown(ctx, title, text)
}

// SendMarkdown posts any markdown message (a report's figures, say), delivered as Send
// delivers alerts. title is what DingTalk shows in its notification; WeCom shows text.
func (w *Webhook) SendMarkdown(ctx context.Context, title, text string) error {
	body, err := json.Marshal(w.message(title, text))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebhook, err)
	}
	wait := w.cfg.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= w.cfg.Retries {
			return fmt.Errorf("%w: %s: %w (attempt %d)", ErrWebhook, w, err, attempt+1)
		}
		if err := w.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrWebhook, w, err)
		}
		wait *= 2
	}
}

// post makes one attempt and says whether a failure is worth retrying.
func (w *Webhook) post(ctx context.Context, body []byte) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.target(), bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := w.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return true, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var ans struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return false, fmt.Errorf("answer is not the robot's JSON: %q", truncate(string(raw), 120))
	}
	switch ans.ErrCode {
	case 0:
		return false, nil
	case -1, 45009, 130101: // busy, WeCom's and DingTalk's "too many messages"
		return true, fmt.Errorf("errcode %d: %s", ans.ErrCode, ans.ErrMsg)
	}
	return false, fmt.Errorf("errcode %d: %s", ans.ErrCode, ans.ErrMsg)
}

// target is the URL to post to: DingTalk's signed robots take the time in milliseconds and
// base64(HMAC-SHA256(secret, time+"\n"+secret)) as query parameters.
func (w *Webhook) target() string {
	if w.cfg.Kind != WebhookDingTalk || w.cfg.Secret == "" {
		return w.cfg.URL
	}
	ts := strconv.FormatInt(w.now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(w.cfg.Secret))
	mac.Write([]byte(ts + "\n" + w.cfg.Secret))
	sign := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sep := "&"
	if !strings.Contains(w.cfg.URL, "?") {
		sep = "?"
	}
	return w.cfg.URL + sep + "timestamp=" + ts + "&sign=" + url.QueryEscape(sign)
}

// alertMessage is an alert's title and markdown text.
func alertMessage(a Alert) (string, string) {
	title := "高频问题预警：" + a.Issue + " @ " + a.Place
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", title)
	fmt.Fprintf(&b, "- 事项：%s\n- 地点：%s\n- 来电：%d 通\n- 部门：%s\n- 状态：%s（%s）\n",
		a.Issue, a.Place, len(a.CallIDs), a.Department, a.State, a.At.Format("2006-01-02 15:04"))
	return title, b.String()
}

// message is the robot's markdown message.
func (w *Webhook) message(title, text string) any {
	if w.cfg.Kind == WebhookDingTalk {
		return map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": text}}
	}
	return map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
