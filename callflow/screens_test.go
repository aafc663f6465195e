package callflow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A hotspot alert lives its whole life on the admins' screens: raised by the third call
// about one stopped lift at one compound (each said differently), acknowledged by an admin
// (who, when), and expired once its window passes with no new call.
func TestHotspotAlertLifeCycle(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer st.Close()
	clk := &testClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	d, err := desk.New(desk.Config{Users: map[string]string{"admin": "$2a$04$juv2KaWJ6yqFmVyuVfLaye/P04BM0JseKO6ftX1JGNXVe3BDoAAeS"}},
		st, desk.Options{Now: clk.now, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	defer d.Close()
	clf, err := dispatch.NewDefault()
	require.NoError(t, err)
	issues, err := clf.IssueClassifier()
	require.NoError(t, err)
	// the hotline's 企业微信 group robot, a real HTTP server taking the robot's JSON
	var posts []string
	var postsMu sync.Mutex
	robotSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		postsMu.Lock()
		posts = append(posts, string(b))
		postsMu.Unlock()
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	defer robotSrv.Close()
	robot, err := dispatch.NewWebhook(dispatch.WebhookConfig{Kind: dispatch.WebhookWeCom, URL: robotSrv.URL + "/cgi-bin/webhook/send?key=k"}, nil, clk.now)
	require.NoError(t, err)
	scr := NewScreens(ScreensConfig{Publisher: d, Store: st, Classifier: clf, Now: clk.now, ExpireEvery: 10 * time.Millisecond,
		Hotspots:      dispatch.NewHotspots(dispatch.HotspotConfig{Window: time.Hour, Threshold: 3, Issues: issues}, clk.now),
		HotspotWindow: time.Hour, Robot: robot})
	defer scr.Close()

	for i, text := range []string{
		"你好，我们阳光花园3号楼的电梯坏了，停在五楼不动了",
		"阳光花园三幢那个电梯又出问题了，老人上不了楼",
		"我住阳光花园第三栋，电梯两天没修好，你们管不管",
	} {
		ci := &Info{ID: "call-" + string(rune('a'+i)), Line: "12345", Seat: "seat-01", Offered: clk.now(), Answered: clk.now()}
		scr.CallArrived(ci)
		scr.Result(ci, "caller", asr.Result{Final: true, Text: text, UtteranceID: 1}, false)
		clk.add(10 * time.Minute)
		ci.Ended = clk.now()
		scr.CallEnded(ci, Completed, nil)
	}
	alerts := func() []desk.HotspotData {
		evs, err := st.Events(ctx, store.EventFilter{})
		require.NoError(t, err)
		var out []desk.HotspotData
		for _, ev := range evs {
			if ev.Type == desk.TypeHotspot {
				var a desk.HotspotData
				require.NoError(t, json.Unmarshal(ev.Data, &a))
				out = append(out, a)
			}
		}
		return out
	}
	got := alerts()
	require.Len(t, got, 1, "raised once, by the third call")
	raised := got[0]
	require.Equal(t, dispatch.AlertRaised, raised.State)
	require.Equal(t, 3, raised.Count)
	require.Equal(t, "电梯故障", raised.Issue)
	require.Eventually(t, func() bool {
		postsMu.Lock()
		defer postsMu.Unlock()
		return len(posts) == 1
	}, 10*time.Second, 10*time.Millisecond, "the raised alert reached the group robot")
	require.Contains(t, posts[0], "电梯故障")
	require.Contains(t, posts[0], "阳光花园")

	require.ErrorIs(t, scr.HotspotAction(ctx, "no-such-alert", desk.HotspotAcknowledge, "admin"), desk.ErrNoAlert)
	require.NoError(t, scr.HotspotAction(ctx, raised.ID, desk.HotspotAcknowledge, "admin"))
	got = alerts()
	require.Len(t, got, 2)
	require.Equal(t, dispatch.AlertAcknowledged, got[1].State)
	require.Equal(t, "admin", got[1].AckBy)
	require.Equal(t, raised.ID, got[1].ID)

	clk.add(2 * time.Hour)
	require.Eventually(t, func() bool {
		got = alerts()
		return len(got) == 3
	}, 5*time.Second, 10*time.Millisecond, "the alert expires off the wallboard")
	require.Equal(t, dispatch.AlertExpired, got[2].State)
	require.Equal(t, raised.ID, got[2].ID)
	postsMu.Lock()
	defer postsMu.Unlock()
	require.Len(t, posts, 1, "the robot hears of the alert once, when it is raised")
}
