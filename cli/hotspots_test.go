package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func decodeHotspots(t *testing.T, out string) []hotspotOut {
	t.Helper()
	var res []hotspotOut
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var o hotspotOut
		require.NoError(t, json.Unmarshal([]byte(line), &o), line)
		res = append(res, o)
	}
	return res
}

func TestHotspotsCommandStream(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a1","at":"2026-12-01T08:00:00+08:00","text":"金桥花园2号楼电梯停了不动"}`,
		`not json at all`,
		`{"id":"a2","at":"2026-12-01T08:10:00+08:00","text":"金乔花园二幢楼里的梯子坏了老人下不来","department":"housing-construction"}`,
		`{"id":"x1","at":"2026-12-01T08:12:00+08:00"}`,
		`{"at":"2026-12-01T08:12:00+08:00","text":"没有编号"}`,
		`{"id":"x2","at":"yesterday","text":"时间不对"}`,
		`{"id":"x3","at":"2026-12-01T07:00:00+08:00","text":"金桥花园2号楼电梯又坏了"}`,
		``,
		`{"id":"a3","at":"2026-12-01T08:20:00+08:00","text":"金桥花园第二栋按了半天按钮门也不开只能爬十八楼"}`,
		`{"id":"b1","at":"2026-12-01T08:25:00+08:00","text":"金桥花园五号楼的电梯也坏了"}`,
		`{"id":"a4","at":"2026-12-01T08:30:00+08:00","text":"金桥花园2号楼电梯到现在还没修好","department":"market-regulation"}`,
	}, "\n")
	rc, out, errs := runCLI(t, in, "hotspots")
	require.Equal(t, 0, rc, errs)
	for _, want := range []string{"line 2:", "line 4: missing text", "line 5: missing id", "line 6: at \"yesterday\"", "line 7: at 2026-12-01T07:00:00+08:00 goes back in time"} {
		require.Contains(t, errs, want)
	}
	require.Equal(t, 5, strings.Count(errs, "\n"), errs)
	res := decodeHotspots(t, out)
	require.Len(t, res, 2, out)
	raised, grown := res[0], res[1]
	require.Equal(t, raised.Alert, grown.Alert)
	require.Equal(t, "raised", raised.State)
	require.Equal(t, []string{"a1", "a2", "a3"}, raised.CallIDs)
	require.Equal(t, "2026-12-01T08:20:00+08:00", raised.At.Format("2006-01-02T15:04:05Z07:00"))
	require.Equal(t, "电梯故障", raised.Issue)
	require.Equal(t, "金桥花园2号楼", raised.Place)
	require.Equal(t, "market-regulation", raised.Department)
	require.Equal(t, "grown", grown.State)
	require.Equal(t, []string{"a1", "a2", "a3", "a4"}, grown.CallIDs)
	// The contract's field names, exactly.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &raw))
	for _, k := range []string{"alert", "at", "department", "issue", "place", "call_ids"} {
		require.Contains(t, raw, k)
	}
}

func TestHotspotsCommandFlags(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","at":"2026-12-01T08:00:00Z","text":"海韵家园停水了"}`,
		`{"id":"b","at":"2026-12-01T08:40:00Z","text":"海运家园一滴水都没有","issue":"停水"}`,
		`{"id":"c","at":"2026-12-01T09:30:00Z","text":"海韵家园还是没水"}`,
	}, "\n")
	rc, out, _ := runCLI(t, in, "hotspots", "--threshold", "2")
	require.Equal(t, 0, rc)
	res := decodeHotspots(t, out)
	require.Len(t, res, 2, "raised by the second call, grown by the third")
	require.Equal(t, []string{"a", "b"}, res[0].CallIDs)
	require.Equal(t, "停水", res[0].Issue)

	rc, out, _ = runCLI(t, in, "hotspots", "--window", "30m", "--threshold", "2")
	require.Equal(t, 0, rc)
	require.Empty(t, strings.TrimSpace(out), "40 minutes apart is outside a 30-minute window")

	rc, _, errs := runCLI(t, "", "hotspots", "--threshold", "1")
	require.Equal(t, 2, rc)
	require.Contains(t, errs, "--threshold")
	bad := filepath.Join(t.TempDir(), "issues.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nissues: []\n"), 0o644))
	rc, _, errs = runCLI(t, "", "hotspots", "--issues", bad)
	require.Equal(t, 1, rc)
	require.Contains(t, errs, "issues.yaml")
	rc, _, errs = runCLI(t, "", "hotspots", "--model", filepath.Join(t.TempDir(), "none.model"))
	require.Equal(t, 1, rc)
	require.Contains(t, errs, "none.model")
}

// TestHotspotsCommandTestdata replays the project's labelled streams through the command:
// every cluster gets an alert (the dispatch package's stream test scores them in full).
func TestHotspotsCommandTestdata(t *testing.T) {
	b, err := os.ReadFile("../testdata/dispatch/hotspots/near-misses.jsonl")
	require.NoError(t, err)
	var in strings.Builder
	clusters := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c struct {
			ID      string  `json:"id"`
			Minute  int     `json:"minute"`
			Text    string  `json:"text"`
			Cluster *string `json:"cluster"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &c))
		if c.Cluster != nil {
			clusters[*c.Cluster] = true
		}
		at := "2026-12-01T" + twoDigits(8+c.Minute/60) + ":" + twoDigits(c.Minute%60) + ":00+08:00"
		j, _ := json.Marshal(map[string]string{"id": c.ID, "at": at, "text": c.Text})
		in.Write(append(j, '\n'))
	}
	rc, out, errs := runCLI(t, in.String(), "hotspots")
	require.Equal(t, 0, rc, errs)
	require.Empty(t, errs)
	alerts := map[string]bool{}
	for _, o := range decodeHotspots(t, out) {
		alerts[o.Alert] = true
	}
	require.Len(t, alerts, len(clusters))
}

func twoDigits(n int) string {
	s := "0" + string(rune('0'+n%10))
	if n >= 10 {
		s = string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	return s
}

func FuzzParseHotspotLine(f *testing.F) {
	for _, s := range []string{`{"id":"a","at":"2026-12-01T08:00:00+08:00","text":"阳光花园停水"}`, `{"id":1}`, `{`, `null`, `{"id":"a","at":"2026-13-01T00:00:00Z","text":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseHotspotLine(line)
		if err == nil && (c.ID == "" || c.Text == "" || c.At.IsZero()) {
			t.Fatalf("accepted %q as %+v", line, c)
		}
	})
}

func TestHotspotsCommandWebhook(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.URL.RawQuery+" "+string(b))
		mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	in := strings.Join([]string{
		`{"id":"a","at":"2026-12-01T08:00:00Z","text":"海韵家园停水了"}`,
		`{"id":"b","at":"2026-12-01T08:10:00Z","text":"海运家园一滴水都没有"}`,
		`{"id":"c","at":"2026-12-01T08:20:00Z","text":"海韵家园水龙头拧不出水"}`,
		`{"id":"d","at":"2026-12-01T08:30:00Z","text":"海韵家园还是没水"}`,
	}, "\n")
	t.Setenv("LIANXIN_WEBHOOK_SECRET", "SECtest")
	rc, out, errs := runCLI(t, in, "hotspots", "--webhook", srv.URL+"/robot/send?access_token=x", "--webhook-kind", "dingtalk")
	require.Equal(t, 0, rc, errs)
	require.Len(t, decodeHotspots(t, out), 2, "raised and grown are printed")
	require.Len(t, posts, 1, "only the raised alert is posted")
	require.Contains(t, posts[0], "sign=")
	require.Contains(t, posts[0], "海韵家园")

	// A robot that refuses: the stream goes on and says so.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
	}))
	defer bad.Close()
	rc, out, errs = runCLI(t, in, "hotspots", "--webhook", bad.URL)
	require.Equal(t, 0, rc)
	require.Len(t, decodeHotspots(t, out), 2)
	require.Contains(t, errs, "line 3: alert hotspot-1 not posted")
	require.Contains(t, errs, "93000")

	rc, _, errs = runCLI(t, "", "hotspots", "--webhook", "https://x/", "--webhook-kind", "slack")
	require.Equal(t, 2, rc)
	require.Contains(t, errs, "slack")
}

func TestHotspotsCommandLongLine(t *testing.T) {
	long := `{"id":"x","at":"2026-12-01T08:00:00Z","text":"` + strings.Repeat("停水", maxHotspotLine/4) + `"}`
	in := long + "\n" + `{"id":"a","at":"2026-12-01T08:01:00Z","text":"海韵家园停水了"}` + "\n" +
		`{"id":"b","at":"2026-12-01T08:02:00Z","text":"海运家园没水了"}` // no newline at the end
	rc, out, errs := runCLI(t, in, "hotspots", "--threshold", "2")
	require.Equal(t, 0, rc, errs)
	require.Contains(t, errs, "line 1: longer than")
	res := decodeHotspots(t, out)
	require.Len(t, res, 1, "the stream goes on after the long line, and its last line counts")
	require.Equal(t, []string{"a", "b"}, res[0].CallIDs)
}
