package callflow

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/store"
)

// restartRun is one run of the gateway's screens on a data dir: the store, the desk and
// the screens with hotspot detection, on a shared clock.
type restartRun struct {
	st  *store.SQLite
	d   *desk.Desk
	scr *Screens
}

func startRun(t *testing.T, path string, clk *testClock) *restartRun {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, path)
	require.NoError(t, err)
	d, err := desk.New(desk.Config{Users: map[string]string{"admin": "$2a$04$juv2KaWJ6yqFmVyuVfLaye/P04BM0JseKO6ftX1JGNXVe3BDoAAeS"}},
		st, desk.Options{Now: clk.now, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	clf, err := dispatch.NewDefault()
	require.NoError(t, err)
	issues, err := clf.IssueClassifier()
	require.NoError(t, err)
	scr := NewScreens(ScreensConfig{Publisher: d, Store: st, Classifier: clf, Now: clk.now,
		Hotspots:      dispatch.NewHotspots(dispatch.HotspotConfig{Window: time.Hour, Threshold: 3, Issues: issues}, clk.now),
		HotspotWindow: time.Hour})
	_, err = scr.Reconcile(ctx, st)
	require.NoError(t, err)
	r := &restartRun{st: st, d: d, scr: scr}
	t.Cleanup(r.stop)
	return r
}

// stop ends the run as a gateway that stops does; it is safe twice.
func (r *restartRun) stop() {
	_ = r.scr.Close()
	_ = r.d.Close()
	_ = r.st.Close()
}

// call is one answered call whose caller says text, ten minutes long.
func (r *restartRun) call(id, text string, clk *testClock) {
	ci := &Info{ID: id, Line: "12345", Seat: "seat-01", Offered: clk.now(), Answered: clk.now()}
	r.scr.CallArrived(ci)
	r.scr.Result(ci, "caller", asr.Result{Final: true, Text: text, UtteranceID: 1}, false)
	clk.add(10 * time.Minute)
	ci.Ended = clk.now()
	r.scr.CallEnded(ci, Completed, nil)
}

func (r *restartRun) alerts(t *testing.T) []desk.HotspotData {
	t.Helper()
	evs, err := r.st.Events(context.Background(), store.EventFilter{})
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

// A hotspot alert open when the gateway stops is taken up by the next run on the same
// data dir: the next call about it grows the same alert, an admin can acknowledge it, and
// once its window has passed a later run leaves it down.
func TestHotspotAlertOutlivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lianxin.db")
	clk := &testClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}

	first := startRun(t, path, clk)
	for i, text := range []string{
		"你好，我们阳光花园3号楼的电梯坏了，停在五楼不动了",
		"阳光花园三幢那个电梯又出问题了，老人上不了楼",
		"我住阳光花园第三栋，电梯两天没修好，你们管不管",
	} {
		first.call("call-"+string(rune('a'+i)), text, clk)
	}
	got := first.alerts(t)
	require.Len(t, got, 1)
	raised := got[0]
	require.Equal(t, dispatch.AlertRaised, raised.State)
	first.stop()

	clk.add(20 * time.Minute)
	second := startRun(t, path, clk)
	second.call("call-d", "阳光花园3号楼电梯还是坏的，到现在没人来修", clk)
	got = second.alerts(t)
	require.Len(t, got, 2, "the fourth call grew the alert of the run before")
	grown := got[1]
	require.Equal(t, raised.ID, grown.ID)
	require.Equal(t, dispatch.AlertGrown, grown.State)
	require.Equal(t, 4, grown.Count)
	require.Equal(t, []string{"call-a", "call-b", "call-c", "call-d"}, grown.Examples)
	require.NoError(t, second.scr.HotspotAction(ctx, raised.ID, desk.HotspotAcknowledge, "admin"))
	require.Equal(t, dispatch.AlertAcknowledged, second.alerts(t)[2].State)
	second.stop()

	clk.add(2 * time.Hour)
	third := startRun(t, path, clk)
	require.ErrorIs(t, third.scr.HotspotAction(ctx, raised.ID, desk.HotspotClose, "admin"), desk.ErrNoAlert,
		"an alert past its window is not taken up")
}
