package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lianxin/dispatch"
)

// maxHotspotLine bounds one stdin line of `gateway hotspots`.
const maxHotspotLine = 1 << 20

// hotspotIn is one call on stdin.
type hotspotIn struct {
	ID         string `json:"id"`
	At         string `json:"at"`
	Text       string `json:"text"`
	Department string `json:"department"`
	Issue      string `json:"issue"`
}

// hotspotOut is one alert raised or grown, as printed.
type hotspotOut struct {
	Alert      string    `json:"alert"`
	State      string    `json:"state"`
	At         time.Time `json:"at"`
	Department string    `json:"department"`
	Issue      string    `json:"issue"`
	IssueID    string    `json:"issue_id"`
	Place      string    `json:"place"`
	CallIDs    []string  `json:"call_ids"`
}

// Hotspots replays a stream of calls through hotspot detection, the way the hotline
// tunes its window and threshold on a past day.
func Hotspots(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hotspots", flag.ContinueOnError)
	fs.SetOutput(stderr)
	window := fs.Duration("window", 2*time.Hour, "how far back calls count, and how long an alert lives without a new call")
	threshold := fs.Int("threshold", 3, "calls within the window that raise an alert")
	model := fs.String("model", "", "department model file (default: the built-in model)")
	taxonomy := fs.String("taxonomy", "", "department taxonomy config (default: the built-in one)")
	issues := fs.String("issues", "", "issue-type config (default: the built-in one)")
	hookURL := fs.String("webhook", "", "group robot URL to post each raised alert to (optional)")
	hookKind := fs.String("webhook-kind", dispatch.WebhookWeCom, "robot kind: wecom or dingtalk")
	hookSecret := fs.String("webhook-secret", "", "DingTalk signing secret (default $LIANXIN_WEBHOOK_SECRET)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway hotspots [--window 2h] [--threshold 3] [--model F] [--taxonomy F] [--issues F] [--webhook URL --webhook-kind wecom|dingtalk] < calls.jsonl")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *window <= 0 || *threshold < 2 {
		fmt.Fprintln(stderr, "gateway hotspots: --window must be positive and --threshold at least 2")
		return 2
	}
	ic, err := loadIssueClassifier(*taxonomy, *model, *issues)
	if err != nil {
		fmt.Fprintln(stderr, "gateway hotspots:", err)
		return 1
	}
	var hook *dispatch.Webhook
	if *hookURL != "" {
		if *hookSecret == "" {
			*hookSecret = os.Getenv("LIANXIN_WEBHOOK_SECRET") // kept out of the process list
		}
		hook, err = dispatch.NewWebhook(dispatch.WebhookConfig{Kind: *hookKind, URL: *hookURL, Secret: *hookSecret}, nil, time.Now)
		if err != nil {
			fmt.Fprintln(stderr, "gateway hotspots:", err)
			return 2
		}
	}
	h := dispatch.NewHotspots(dispatch.HotspotConfig{Window: *window, Threshold: *threshold, Issues: ic}, time.Now)
	if err := replayHotspots(ctx, h, hook, stdin, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "gateway hotspots:", err)
		return 1
	}
	return 0
}

func loadIssueClassifier(taxonomy, model, issues string) (*dispatch.IssueClassifier, error) {
	c, err := dispatch.Load(taxonomy, model)
	if err != nil {
		return nil, err
	}
	is, err := dispatch.DefaultIssues()
	if issues != "" {
		is, err = dispatch.LoadIssues(issues)
	}
	if err != nil {
		return nil, err
	}
	return dispatch.NewIssueClassifier(is, c)
}

// replayHotspots feeds each stdin line to h and prints every alert raised or grown, and
// posts each raised one to hook when there is one (growth is not posted: the robots take
// about 20 messages a minute). A bad line or a failed post is reported on stderr and the
// stream goes on; only a read or write failure stops it.
func replayHotspots(ctx context.Context, h *dispatch.Hotspots, hook *dispatch.Webhook, stdin io.Reader, stdout, stderr io.Writer) error {
	rp := &replay{ctx: ctx, h: h, hook: hook, enc: json.NewEncoder(stdout), stderr: stderr}
	rp.enc.SetEscapeHTML(false)
	r := bufio.NewReaderSize(stdin, 64<<10)
	for n := 1; ; n++ {
		line, truncated, err := readLine(r, maxHotspotLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading stdin: %w", err)
		}
		if line = strings.TrimSpace(line); line != "" {
			if werr := rp.line(n, line, truncated); werr != nil {
				return werr
			}
		}
		if err != nil {
			return nil // EOF
		}
	}
}

// replay is the state of one replay: the detector, where alerts go, the last call's time.
type replay struct {
	ctx    context.Context
	h      *dispatch.Hotspots
	hook   *dispatch.Webhook
	enc    *json.Encoder
	stderr io.Writer
	last   time.Time
}

// line handles stdin line n; only a failure to write the output is returned.
func (rp *replay) line(n int, line string, truncated bool) error {
	call, err := parseHotspotLine(line)
	switch {
	case truncated:
		err = fmt.Errorf("longer than %d bytes", maxHotspotLine)
	case err == nil && call.At.Before(rp.last):
		err = fmt.Errorf("at %s goes back in time (previous %s)", call.At.Format(time.RFC3339), rp.last.Format(time.RFC3339))
	}
	if err != nil {
		fmt.Fprintf(rp.stderr, "gateway hotspots: line %d: %v; skipped\n", n, err)
		return nil
	}
	rp.last = call.At
	a, err := rp.h.Add(call)
	if err != nil {
		return err
	}
	if a == nil {
		return nil
	}
	out := hotspotOut{Alert: a.ID, State: a.State, At: a.At, Department: a.Department, Issue: a.Issue, IssueID: a.IssueID, Place: a.Place, CallIDs: a.CallIDs}
	if err := rp.enc.Encode(out); err != nil {
		return err
	}
	if rp.hook != nil && a.State == dispatch.AlertRaised {
		if err := rp.hook.Send(rp.ctx, *a); err != nil {
			fmt.Fprintf(rp.stderr, "gateway hotspots: line %d: alert %s not posted: %v\n", n, a.ID, err)
		}
	}
	return nil
}

func parseHotspotLine(line string) (dispatch.Call, error) {
	var in hotspotIn
	if err := json.Unmarshal([]byte(line), &in); err != nil {
		return dispatch.Call{}, fmt.Errorf("not a JSON call: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"id", in.ID}, {"at", in.At}, {"text", in.Text}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return dispatch.Call{}, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	at, err := time.Parse(time.RFC3339, in.At)
	if err != nil {
		return dispatch.Call{}, fmt.Errorf("at %q is not RFC 3339", in.At)
	}
	return dispatch.Call{ID: in.ID, At: at, Text: in.Text, Department: in.Department, Issue: in.Issue}, nil
}
