package report

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is the schedule's time in these tests: Now reads it, and each After is handed to
// the test, which moves the time and fires it.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan wait
}

type wait struct {
	d    time.Duration
	fire chan time.Time
}

func newClock(now time.Time) *clock { return &clock{now: now, waits: make(chan wait, 1)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	w := wait{d: d, fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// slept waits until the schedule sleeps, so that its run is over, and checks for how long.
func (c *clock) slept(t *testing.T, want time.Duration) wait {
	t.Helper()
	select {
	case w := <-c.waits:
		require.Equal(t, want, w.d)
		return w
	case <-time.After(time.Minute): // only a hung schedule gets here
		require.FailNow(t, "the schedule never slept")
	}
	return wait{}
}

// wake moves the time on by the sleep and ends it.
func (c *clock) wake(w wait) {
	c.mu.Lock()
	c.now = c.now.Add(w.d)
	now := c.now
	c.mu.Unlock()
	w.fire <- now
}

// robot records the messages the schedule sends.
type robot struct {
	mu     sync.Mutex
	titles []string
	texts  []string
}

func (r *robot) SendMarkdown(_ context.Context, title, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.titles = append(r.titles, title)
	r.texts = append(r.texts, text)
	return nil
}

func (r *robot) got() (titles, texts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.titles...), append([]string(nil), r.texts...)
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return err
	}))
	sort.Strings(out)
	return out
}

func TestRunDueWritesEachPeriodOnce(t *testing.T) {
	dir := t.TempDir()
	bot := &robot{}
	r := newReports(t, seeded(t), Config{Redact: true, Dir: dir, Schedule: Kinds, Notify: bot})
	ctx := context.Background()

	// Wednesday 00:20: Tuesday, the week before and October are due; only Tuesday had calls
	wed := time.Date(2026, 11, 25, 0, 20, 0, 0, cst)
	written, err := r.RunDue(ctx, wed)
	require.NoError(t, err)
	require.Len(t, written, 3)
	require.Equal(t, []string{"daily/2026-11-24.csv", "daily/2026-11-24.html", "daily/2026-11-24.xlsx"}, listFiles(t, dir))
	fi, err := os.Stat(filepath.Join(dir, "daily", "2026-11-24.html"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "reports are the owner's only")
	page, err := os.ReadFile(filepath.Join(dir, "daily", "2026-11-24.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "2026-11-24（周二）")
	titles, texts := bot.got()
	require.Len(t, titles, 1, "one message per period")
	require.Equal(t, "12345 热线数据分析报告 · 日报 2026-11-24（周二）", titles[0])
	require.Contains(t, texts[0], "- 呼入：6（+2 (+50.0%)）")
	require.Contains(t, texts[0], "- 停水：3")
	require.Contains(t, texts[0], "`daily/2026-11-24.xlsx`")
	require.NotContains(t, strings.Join(texts, ""), "8001", "no caller's number goes to the robot")

	// run again: all there, nothing written, nobody told
	written, err = r.RunDue(ctx, wed.Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, written)

	// a file gone is written again, without another message
	require.NoError(t, os.Remove(filepath.Join(dir, "daily", "2026-11-24.xlsx")))
	written, err = r.RunDue(ctx, wed.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "daily", "2026-11-24.xlsx")}, written)
	titles, _ = bot.got()
	require.Len(t, titles, 1)

	// before Delay past midnight, the day before is not yet due
	written, err = r.RunDue(ctx, time.Date(2026, 11, 25, 0, 10, 0, 0, cst))
	require.NoError(t, err)
	require.Contains(t, written, filepath.Join(dir, "daily", "2026-11-23.html"), "Wednesday 00:10: Monday's, not Tuesday's")
}

func TestScheduleRunsAfterMidnightMondayAndTheFirst(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(time.Date(2026, 11, 29, 23, 0, 0, 0, cst)) // Sunday 23:00
	bot := &robot{}
	r := newReports(t, seeded(t), Config{Dir: dir, Schedule: Kinds, Formats: []Format{CSV}, Notify: bot,
		Now: clk.Now, After: clk.After})
	r.Start()

	// at start it catches up (Saturday, week 47, October: no calls, no reports), then
	// sleeps until Monday 00:15
	w := clk.slept(t, 75*time.Minute)
	require.Empty(t, listFiles(t, dir))
	clk.wake(w)

	// Monday 00:15: Sunday (no calls) and week 48
	w = clk.slept(t, 24*time.Hour)
	require.Equal(t, []string{"weekly/2026-W48.csv"}, listFiles(t, dir))
	week, err := os.ReadFile(filepath.Join(dir, "weekly", "2026-W48.csv"))
	require.NoError(t, err)
	require.Contains(t, string(week), "summary,呼入,本期,10\n", "both seeded days are in week 48")
	clk.wake(w)

	// Tuesday 1 December 00:15: November
	clk.slept(t, 24*time.Hour)
	require.Equal(t, []string{"monthly/2026-11.csv", "weekly/2026-W48.csv"}, listFiles(t, dir))
	require.NoError(t, r.Close())
	titles, texts := bot.got()
	require.Len(t, titles, 2)
	require.Equal(t, "12345 热线数据分析报告 · 月报 2026 年 11 月", titles[1])
	require.Contains(t, texts[1], "- 呼入：10（+10 (新增)）")
	require.NoError(t, r.Close(), "Close twice")
}

func TestScheduleRetriesAfterAFailure(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "reports")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))
	clk := newClock(time.Date(2026, 11, 25, 12, 0, 0, 0, cst)) // Tuesday's calls are due
	r := newReports(t, seeded(t), Config{Dir: notADir, Schedule: []Kind{Daily}, Formats: []Format{CSV}, Now: clk.Now, After: clk.After})
	r.Start()
	w := clk.slept(t, retryAfter)
	require.NoError(t, os.Remove(notADir), "the folder can be made now")
	clk.wake(w)
	clk.slept(t, 12*time.Hour) // 12:15 to 00:15
	require.Equal(t, []string{"daily/2026-11-24.csv"}, listFiles(t, notADir))
	require.NoError(t, r.Close())
}
