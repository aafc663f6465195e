package report

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// cst is Beijing time; the seeded days are Monday 2026-11-23 and Tuesday 2026-11-24.
var cst = time.FixedZone("CST", 8*3600)

var names = Names{
	Departments: map[string]Label{"housing": {ZH: "住建局", EN: "Housing"}, "water": {ZH: "水务局", EN: "Water"}},
	Issues:      map[string]Label{"lift-fault": {ZH: "电梯故障", EN: "lift breakdown"}, "water-outage": {ZH: "停水", EN: "water outage"}},
}

// call is one seeded call.
type call struct {
	id, from, seat string
	at             time.Time
	wait, talk     time.Duration // wait 0: abandoned after a minute
	survey         string
	dept, issue    string
	place          string
}

func writeCalls(t testing.TB, st *store.SQLite, calls []call) {
	t.Helper()
	var rows []store.Row
	for _, c := range calls {
		rows = append(rows, store.Call{ID: c.id, From: c.from, Seat: c.seat, OfferedAt: c.at})
		end := c.at.Add(time.Minute)
		if c.wait > 0 {
			rows = append(rows, store.CallAnswered{CallID: c.id, Seat: c.seat, At: c.at.Add(c.wait)})
			end = c.at.Add(c.wait + c.talk)
		}
		rows = append(rows, store.CallEnded{CallID: c.id, At: end, Survey: c.survey})
		if c.issue != "" {
			data, err := json.Marshal(map[string]string{"department": c.dept, "issue": c.issue, "place": c.place})
			require.NoError(t, err)
			rows = append(rows, store.WorkOrderDraft{CallID: c.id, Seat: c.seat, Data: data, At: end})
		}
	}
	require.NoError(t, st.Write(context.Background(), rows...))
}

// seeded is a store with two days of calls: Monday's four and Tuesday's six, one of them a
// repeat of Monday's, and a hotspot raised on Tuesday.
func seeded(t testing.TB) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "lianxin.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	mon := time.Date(2026, 11, 23, 0, 0, 0, 0, cst)
	tue := mon.AddDate(0, 0, 1)
	at := func(d time.Time, h, m int) time.Time {
		return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	writeCalls(t, st, []call{
		{id: "m1", from: "13800138001", seat: "seat-01", at: at(mon, 9, 0), wait: 10 * time.Second, talk: 3 * time.Minute, dept: "housing", issue: "lift-fault", place: "阳光花园3号楼"},
		{id: "m2", from: "13800138002", seat: "seat-02", at: at(mon, 9, 30), wait: 10 * time.Second, talk: 3 * time.Minute, dept: "housing", issue: "lift-fault", place: "阳光花园3号楼"},
		{id: "m3", from: "13800138003", seat: "seat-01", at: at(mon, 10, 0), wait: 10 * time.Second, talk: 3 * time.Minute, dept: "housing", issue: "lift-fault", place: "阳光花园3号楼"},
		{id: "m4", from: "13800138004", seat: "seat-02", at: at(mon, 11, 0), wait: 10 * time.Second, talk: 3 * time.Minute, dept: "water", issue: "water-outage", place: "新建路"},

		{id: "t1", from: "+8613800138001", seat: "seat-01", at: at(tue, 8, 5), wait: 5 * time.Second, talk: 2 * time.Minute, survey: "satisfied", dept: "housing", issue: "lift-fault", place: "阳光花园3号楼"},
		{id: "t2", from: "13900139002", seat: "seat-02", at: at(tue, 9, 10), wait: 15 * time.Second, talk: 4 * time.Minute, survey: "basic", dept: "housing", issue: "lift-fault", place: "阳光花园3号楼"},
		{id: "t3", from: "13900139003", seat: "seat-01", at: at(tue, 14, 0), wait: 25 * time.Second, talk: 6 * time.Minute, survey: "dissatisfied", dept: "water", issue: "water-outage", place: "新建路 13912345678 门口"},
		{id: "t4", from: "13900139004", seat: "seat-02", at: at(tue, 14, 20), wait: 40 * time.Second, talk: 2 * time.Minute, survey: "satisfied", dept: "water", issue: "water-outage", place: "新建路 13912345678 门口"},
		{id: "t5", from: "13900139005", seat: "seat-01", at: at(tue, 14, 40), wait: 10 * time.Second, talk: 2 * time.Minute, survey: "no_answer", dept: "water", issue: "water-outage", place: "新建路 13912345678 门口"},
		{id: "t6", from: "13900139006", at: at(tue, 21, 0)},
	})
	alert := func(state string, count int, when time.Time) store.Row {
		data, err := json.Marshal(map[string]any{"id": "hotspot-9", "state": state, "issue": "停水", "place": "新建路", "count": count})
		require.NoError(t, err)
		return store.Alert{Department: "water", Count: count, Data: data, At: when}
	}
	require.NoError(t, st.Write(context.Background(), alert("raised", 3, at(tue, 14, 40)), alert("acknowledged", 3, at(tue, 15, 0))))
	return st
}

func newReports(t testing.TB, st Source, cfg Config) *Reports {
	t.Helper()
	cfg.Source, cfg.Names, cfg.Web, cfg.Location = st, names, os.DirFS("../desk/web"), cst
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Date(2026, 11, 25, 0, 20, 0, 0, cst) }
	}
	r, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

var tuesday = PeriodOf(Daily, time.Date(2026, 11, 24, 12, 0, 0, 0, cst))

func TestBuildDaily(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	rep, err := r.builder.Build(context.Background(), tuesday, "zh")
	require.NoError(t, err)

	f := rep.Figures
	require.Equal(t, [3]int{6, 5, 1}, [3]int{f.Offered, f.Answered, f.Abandoned})
	require.Equal(t, 3, f.AnsweredIn20s, "answered within 20 s: after 5, 15 and 10 s, not 25 or 40 s")
	require.Equal(t, 4, rep.Prev.Offered, "Monday")
	sat, ok := f.Satisfaction()
	require.True(t, ok)
	require.InDelta(t, 0.75, sat, 1e-9, "satisfied or fairly satisfied, of the four who rated")

	require.Equal(t, 1, rep.Hours[8].Answered)
	require.Equal(t, 3, rep.Hours[14].Offered, "hours of Beijing time, not UTC")
	require.Equal(t, 1, rep.Hours[21].Abandoned)
	require.Empty(t, rep.Days, "a daily report has no days")

	require.Equal(t, []Share{
		{ID: "water", Name: Label{ZH: "水务局", EN: "Water"}, Calls: 3, Prev: 1},
		{ID: "housing", Name: Label{ZH: "住建局", EN: "Housing"}, Calls: 2, Prev: 3},
	}, rep.Departments, "with the change from Monday")
	require.Equal(t, "water-outage", rep.Issues[0].ID)
	require.Equal(t, 3, rep.Places[0].Calls)
	require.Equal(t, "停水", rep.Places[0].Issue.ZH)
	require.NotContains(t, rep.Places[0].Place, "13912345678", "a number in a place is masked")

	require.Len(t, rep.Hotspots, 1)
	require.Equal(t, 3, rep.Hotspots[0].Calls)
	require.Equal(t, "acknowledged", rep.Hotspots[0].State)
	require.Equal(t, 0, rep.PrevHotspots)

	require.Equal(t, 1, rep.Repeats.Callers, "13800138001 called again about the lift, spelled +86…")
	require.Equal(t, "138****8001", rep.Repeats.Top[0].Number)
	require.Equal(t, 2, rep.Repeats.Top[0].Calls)

	require.Len(t, rep.Seats, 2)
	require.Equal(t, "seat-01", rep.Seats[0].Seat)
	require.Equal(t, 3, rep.Seats[0].Answered)
}

func TestBuildWeeklyAndMonthly(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	wk, err := r.builder.Build(context.Background(), PeriodOf(Weekly, tuesday.From), "en")
	require.NoError(t, err)
	require.Equal(t, "2026-W48", wk.Period.Name())
	require.Len(t, wk.Days, 7)
	require.Equal(t, DayCount{Day: "2026-11-23", Count: Count{Offered: 4, Answered: 4}}, wk.Days[0])
	require.Equal(t, 10, wk.Figures.Offered)
	require.Equal(t, 1, wk.Repeats.Callers, "Monday's and Tuesday's lift calls from one number")

	mo, err := r.builder.Build(context.Background(), PeriodOf(Monthly, tuesday.From), "zh")
	require.NoError(t, err)
	require.Equal(t, "2026-11", mo.Period.Name())
	require.Len(t, mo.Days, 30)
	require.Equal(t, 10, mo.Figures.Offered)
	require.Equal(t, 0, mo.Prev.Offered, "nothing in October")
}

// gate holds every report being read at DayStats until released, counting them.
type gate struct {
	Source
	entered chan struct{}
	release chan struct{}
}

func (g gate) DayStats(ctx context.Context, from, to time.Time) (store.DayStats, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.Source.DayStats(ctx, from, to)
}

// TestMakeBoundsConcurrentReports: admins asking for many reports at once get them two
// at a time, and one who gives up while waiting leaves.
func TestMakeBoundsConcurrentReports(t *testing.T) {
	g := gate{Source: seeded(t), entered: make(chan struct{}, 10), release: make(chan struct{})}
	r := newReports(t, g, Config{})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := r.Make(context.Background(), "daily", "2026-11-24", "csv", "zh")
			errs <- err
		}()
	}
	<-g.entered
	<-g.entered
	waiting, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Make(waiting, "daily", "2026-11-24", "csv", "zh")
	require.ErrorIs(t, err, context.Canceled, "a fourth that gives up does not wait")
	require.Empty(t, g.entered, "a third waits its turn")
	close(g.release)
	for range 3 {
		require.NoError(t, <-errs)
	}
}
