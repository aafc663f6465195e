package desk

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
	"lianxin/store"
)

// The call history in a real browser: an agent sees its own past calls only, opens one,
// and the recording plays beside the transcript with the line being played lit; the
// full-text search finds the call by what was said.
func TestBrowserCallHistory(t *testing.T) {
	bctx := browser(t)
	dir := t.TempDir()
	e := newEnv(t, Config{RecordDir: dir}, Options{Now: time.Now, Departments: func() []Dept {
		return []Dept{{ID: "housing", Name: "住建局"}, {ID: "water", Name: "水务集团"}}
	}})
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	end := at.Add(5 * time.Second)
	require.NoError(t, e.st.Write(ctx,
		store.Call{ID: "h1", Seat: "seat-01", From: "13800000000", OfferedAt: at},
		store.CallAnswered{CallID: "h1", Seat: "seat-01", At: at},
		store.Utterance{CallID: "h1", Seat: "seat-01", Channel: "caller", UtteranceID: "caller-1", Text: "楼上装修很吵", StartMS: 0, EndMS: 1000, At: at},
		store.Utterance{CallID: "h1", Seat: "seat-01", Channel: "agent", UtteranceID: "agent-1", Text: "好的我记下了", StartMS: 1200, EndMS: 2500, At: at},
		store.Utterance{CallID: "h1", Seat: "seat-01", Channel: "caller", UtteranceID: "caller-2", Text: "谢谢你们", StartMS: 2600, EndMS: 4000, At: at},
		store.CallEnded{CallID: "h1", At: end, Reason: "completed", Survey: "satisfied"},
		store.Call{ID: "h2", Seat: "seat-02", From: "13900000000", OfferedAt: at},
		store.Decision{CallID: "h1", Seat: "seat-01", Department: "housing", Accepted: true, At: end},
		store.Call{ID: "h3", Seat: "seat-01", From: "13700000000", OfferedAt: at.Add(time.Minute)},
		store.Decision{CallID: "h3", Seat: "seat-01", Department: "water", Accepted: true, At: end},
	))
	// a 5 s stereo recording where the recorder keeps it
	pcm := make([]int16, 2*8000*5)
	for i := range pcm {
		pcm[i] = int16(3000 * math.Sin(float64(i)/5))
	}
	rec := filepath.Join(dir, at.Local().Format(time.DateOnly), "h1.wav")
	require.NoError(t, os.MkdirAll(filepath.Dir(rec), 0o700))
	require.NoError(t, testpeer.WriteWAV(rec, pcm, 8000, 2))

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/history"),
		chromedp.WaitVisible(`#login`),
		chromedp.SetValue(`#user`, "seat-01"),
		chromedp.SetValue(`#password`, seatPass),
		chromedp.Click(`#login-btn`),
		chromedp.WaitVisible(`#calls tr[data-call="h1"]`),
	))
	n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#calls tr[data-call="h2"]').length`))
	require.NoError(t, err)
	require.Zero(t, n, "another seat's call is not listed for this agent")
	require.Contains(t, text(t, bctx, `#calls tr[data-call="h1"]`), "满意")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.WaitVisible(`#calls tr[data-call="h3"]`),
		chromedp.SetValue(`#department`, "housing"),
		chromedp.Click(`#filter button`),
		chromedp.WaitNotPresent(`#calls tr[data-call="h3"]`),
		chromedp.WaitVisible(`#calls tr[data-call="h1"]`),
	), "filtered by the department the call went to")

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(`#calls tr[data-call="h1"]`),
		chromedp.WaitVisible(`#lines li[data-start="2600"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById('audio').readyState >= 1`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('audio').currentTime = 1.5`),
		chromedp.WaitVisible(`#lines li.playing[data-start="1200"]`),
	))
	require.Equal(t, "00:01 好的我记下了", text(t, bctx, `#lines li.playing`))

	require.NoError(t, chromedp.Do(bctx,
		chromedp.SetValue(`#q`, "谢谢"),
		chromedp.Click(`#searchform button`),
		chromedp.WaitVisible(`#hits li[data-call="h1"]`),
	))
	evs, err := e.st.AuditLog(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, evs, "playing the recording is a download, in the audit log")
}
