package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seedCall is one call for the report queries: offered at At, answered after Wait (none
// when zero), talking for Talk, with a draft and an agent's decision when given.
type seedCall struct {
	ID, From, Seat     string
	At                 time.Time
	Wait, Talk         time.Duration
	Survey             string
	Dept, Issue, Place string // the draft's
	Decided            string // the agent's decision, overriding the draft's department
}

func seed(t testing.TB, s *SQLite, calls ...seedCall) {
	t.Helper()
	ctx := context.Background()
	var rows []Row
	for _, c := range calls {
		rows = append(rows, Call{ID: c.ID, From: c.From, Seat: c.Seat, OfferedAt: c.At})
		end := c.At.Add(40 * time.Second)
		if c.Wait > 0 {
			rows = append(rows, CallAnswered{CallID: c.ID, Seat: c.Seat, At: c.At.Add(c.Wait)})
			end = c.At.Add(c.Wait + c.Talk)
		}
		rows = append(rows, CallEnded{CallID: c.ID, At: end, Survey: c.Survey})
		if c.Dept != "" || c.Issue != "" || c.Place != "" {
			data, err := json.Marshal(map[string]string{"department": c.Dept, "issue": c.Issue, "place": c.Place})
			require.NoError(t, err)
			rows = append(rows, WorkOrderDraft{CallID: c.ID, Seat: c.Seat, Data: data, At: end})
		}
		if c.Decided != "" {
			rows = append(rows, Decision{CallID: c.ID, Seat: c.Seat, Department: c.Decided, At: end})
		}
	}
	require.NoError(t, s.Write(ctx, rows...))
}

// day is 2026-11-23 (a Monday) at 00:00 in Beijing time.
var day = time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func TestBreakdownByDepartmentIssueAndPlace(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	h := func(d int, hour int) time.Time { return day.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
	seed(t, s,
		// the previous day: two lifts, one outage
		seedCall{ID: "p1", At: h(-1, 9), Wait: time.Second, Talk: time.Minute, Dept: "housing", Issue: "lift-fault", Place: "阳光花园3号楼"},
		seedCall{ID: "p2", At: h(-1, 10), Wait: time.Second, Talk: time.Minute, Dept: "housing", Issue: "lift-fault", Place: "阳光花园3号楼"},
		seedCall{ID: "p3", At: h(-1, 11), Wait: time.Second, Talk: time.Minute, Dept: "water", Issue: "water-outage", Place: "新建路"},
		// the day: the agent sends one lift call elsewhere; an abandoned call has no draft
		seedCall{ID: "d1", At: h(0, 9), Wait: time.Second, Talk: time.Minute, Dept: "housing", Issue: "lift-fault", Place: "阳光花园3号楼"},
		seedCall{ID: "d2", At: h(0, 9), Wait: time.Second, Talk: time.Minute, Dept: "housing", Issue: "lift-fault", Place: " 阳光花园3号楼 ", Decided: "market"},
		seedCall{ID: "d3", At: h(0, 14), Wait: time.Second, Talk: time.Minute, Dept: "water", Issue: "water-outage", Place: "新建路"},
		seedCall{ID: "d4", At: h(0, 15), Wait: time.Second, Talk: time.Minute, Dept: "water", Issue: "water-outage", Place: "新建路"},
		seedCall{ID: "d5", At: h(0, 15), Wait: time.Second, Talk: time.Minute, Dept: "water", Issue: "low-pressure", Place: "新建路"},
		seedCall{ID: "d6", At: h(0, 16)},
		// the next day does not count
		seedCall{ID: "n1", At: h(1, 0), Wait: time.Second, Dept: "water", Issue: "water-outage", Place: "新建路"},
	)
	b, err := s.Breakdown(ctx, day, day.AddDate(0, 0, 1), 10)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"housing": 1, "market": 1, "water": 3}, b.Departments, "the agent's decision wins over the draft")
	require.Equal(t, map[string]int{"lift-fault": 2, "water-outage": 2, "low-pressure": 1}, b.Issues)
	require.Equal(t, []PlaceCount{{Place: "新建路", Calls: 3, Issue: "water-outage"}, {Place: "阳光花园3号楼", Calls: 2, Issue: "lift-fault"}}, b.Places,
		"places trimmed, most calls first, each with its main issue")

	prev, err := s.Breakdown(ctx, day.AddDate(0, 0, -1), day, 0)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"housing": 2, "water": 1}, prev.Departments)
	require.Equal(t, map[string]int{"lift-fault": 2, "water-outage": 1}, prev.Issues)
	require.Empty(t, prev.Places, "no places asked for")

	top1, err := s.Breakdown(ctx, day, day.AddDate(0, 0, 1), 1)
	require.NoError(t, err)
	require.Len(t, top1.Places, 1)
}

func TestPlaceSpellings(t *testing.T) {
	s, _ := open(t)
	h := func(d, hour, minute int) time.Time {
		return day.AddDate(0, 0, d).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	seed(t, s,
		seedCall{ID: "p1", At: h(-1, 9, 0), Issue: "water-outage", Place: "兴建路"},
		seedCall{ID: "d1", At: h(0, 10, 0), Issue: "water-outage", Place: "新建路"},
		seedCall{ID: "d2", At: h(0, 9, 30), Issue: "low-pressure", Place: " 新建路"},
		seedCall{ID: "d3", At: h(0, 11, 0), Issue: "water-outage", Place: "新建路 "},
		seedCall{ID: "d4", At: h(0, 12, 0), Dept: "water", Place: "兴建路"},
		seedCall{ID: "d5", At: h(0, 13, 0), Issue: "water-outage"},
	)
	got, err := s.PlaceSpellings(context.Background(), day, day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []PlaceSpelling{
		{Place: "兴建路", Calls: 1, Issues: map[string]int{}, First: h(0, 12, 0).UTC()},
		{Place: "新建路", Calls: 3, Issues: map[string]int{"water-outage": 2, "low-pressure": 1}, First: h(0, 9, 30).UTC()},
	}, got, "every spelling of the day, trimmed, with its issue types and its first call")
	require.Equal(t, "water-outage", MainIssue(got[1].Issues))
	require.Empty(t, MainIssue(got[0].Issues))
}

func TestArrivalsPerQuarterHour(t *testing.T) {
	s, _ := open(t)
	at := func(hm string) time.Time {
		d, err := time.ParseDuration(hm)
		require.NoError(t, err)
		return day.Add(d)
	}
	seed(t, s,
		seedCall{ID: "a", At: at("9h1m"), Wait: 5 * time.Second, Talk: time.Minute},
		seedCall{ID: "b", At: at("9h14m59s"), Wait: 30 * time.Second, Talk: time.Minute},
		seedCall{ID: "c", At: at("9h15m")},
		seedCall{ID: "d", At: at("23h59m")},
	)
	got, err := s.Arrivals(context.Background(), day, day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []Arrival{
		{Start: at("9h").UTC(), Offered: 2, Answered: 2},
		{Start: at("9h15m").UTC(), Offered: 1, Abandoned: 1},
		{Start: at("23h45m").UTC(), Offered: 1, Abandoned: 1},
	}, got)
}

func TestRepeatCallersWithinSevenDays(t *testing.T) {
	s, _ := open(t)
	h := func(d int, hour int) time.Time { return day.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
	week := 7 * 24 * time.Hour
	seed(t, s,
		// A called about the lift three days before the period and again on its first day
		seedCall{ID: "a1", From: "13800138001", At: h(-3, 9), Issue: "lift-fault"},
		seedCall{ID: "a2", From: "13800138001", At: h(0, 9), Issue: "lift-fault"},
		// B calls twice within the period, spelled two ways, then a third time
		seedCall{ID: "b1", From: "+86 139-0013-9002", At: h(1, 9), Issue: "water-outage"},
		seedCall{ID: "b2", From: "013900139002", At: h(3, 9), Issue: "water-outage"},
		seedCall{ID: "b3", From: "13900139002", At: h(5, 20), Issue: "water-outage"},
		// C waits eight days: not a repeat
		seedCall{ID: "c1", From: "13700137003", At: h(-2, 9), Issue: "noise"},
		seedCall{ID: "c2", From: "13700137003", At: h(6, 10), Issue: "noise"},
		// D calls twice about two things: not a repeat
		seedCall{ID: "d1", From: "13600136004", At: h(1, 9), Issue: "noise"},
		seedCall{ID: "d2", From: "13600136004", At: h(2, 9), Issue: "lift-fault"},
		// E's second call is after the period
		seedCall{ID: "e1", From: "13500135005", At: h(6, 9), Issue: "noise"},
		seedCall{ID: "e2", From: "13500135005", At: h(7, 9), Issue: "noise"},
		// no caller ID and an extension are nobody's number
		seedCall{ID: "x1", From: "anonymous", At: h(1, 9), Issue: "noise"},
		seedCall{ID: "x2", From: "anonymous", At: h(1, 10), Issue: "noise"},
		seedCall{ID: "x3", From: "8001", At: h(1, 9), Issue: "noise"},
		seedCall{ID: "x4", From: "8001", At: h(1, 10), Issue: "noise"},
		// a call with no issue type is about nothing known
		seedCall{ID: "f1", From: "13400134006", At: h(1, 9)},
		seedCall{ID: "f2", From: "13400134006", At: h(1, 10)},
	)
	got, err := s.RepeatCallers(context.Background(), day, day.AddDate(0, 0, 7), week)
	require.NoError(t, err)
	require.Equal(t, []RepeatCaller{
		{Number: "13900139002", Issue: "water-outage", Repeats: 2, Calls: 3, First: h(1, 9).UTC(), Last: h(5, 20).UTC(),
			CallIDs: []string{"b1", "b2", "b3"}},
		{Number: "13800138001", Issue: "lift-fault", Repeats: 1, Calls: 2, First: h(-3, 9).UTC(), Last: h(0, 9).UTC(),
			CallIDs: []string{"a1", "a2"}},
	}, got)

	// the week before holds none of them: a1 had no earlier call
	prev, err := s.RepeatCallers(context.Background(), day.AddDate(0, 0, -7), day, week)
	require.NoError(t, err)
	require.Empty(t, prev)
}

func TestCallerNumber(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000": "13800138000", "+8613800138000": "13800138000", "008613800138000": "13800138000",
		"013800138000": "13800138000", "+86 138-0013-8000": "13800138000", "02112345678": "02112345678",
		"anonymous": "", "8001": "", "": "",
	} {
		require.Equal(t, want, callerNumber(in), in)
	}
}

func TestSeatFigures(t *testing.T) {
	s, _ := open(t)
	seed(t, s,
		seedCall{ID: "1", Seat: "seat-01", At: day.Add(time.Hour), Wait: 10 * time.Second, Talk: 2 * time.Minute, Survey: "satisfied"},
		seedCall{ID: "2", Seat: "seat-01", At: day.Add(2 * time.Hour), Wait: 30 * time.Second, Talk: 4 * time.Minute, Survey: "dissatisfied"},
		seedCall{ID: "3", Seat: "seat-02", At: day.Add(3 * time.Hour), Wait: 5 * time.Second, Talk: time.Minute},
		seedCall{ID: "4", Seat: "seat-02", At: day.Add(3 * time.Hour)}, // rang seat-02, abandoned
	)
	got, err := s.SeatFigures(context.Background(), day, day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []SeatFigures{
		{Seat: "seat-01", Answered: 2, TalkMS: 360000, AvgTalkMS: 180000, AvgAnswerMS: 20000,
			Survey: map[string]int{"satisfied": 1, "dissatisfied": 1}},
		{Seat: "seat-02", Answered: 1, TalkMS: 60000, AvgTalkMS: 60000, AvgAnswerMS: 5000, Survey: map[string]int{}},
	}, got)
}

func TestHotspotsRaisedInPeriod(t *testing.T) {
	s, _ := open(t)
	alert := func(id, state string, count int, at time.Time) Row {
		data, err := json.Marshal(map[string]any{"id": id, "state": state, "issue": "电梯故障", "place": "阳光花园3号楼", "count": count})
		require.NoError(t, err)
		return Alert{Department: "housing", Count: count, Data: data, At: at}
	}
	require.NoError(t, s.Write(context.Background(),
		alert("hotspot-1", "raised", 3, day.Add(-time.Hour)), // raised the day before
		alert("hotspot-1", "grown", 4, day.Add(time.Hour)),
		alert("hotspot-2", "raised", 3, day.Add(9*time.Hour)),
		alert("hotspot-2", "grown", 5, day.Add(10*time.Hour)),
		alert("hotspot-2", "acknowledged", 5, day.Add(11*time.Hour)),
		alert("hotspot-3", "raised", 3, day.Add(25*time.Hour)), // the day after
		Alert{Topic: "装修噪音", Count: 9, At: day.Add(time.Hour)}, // an alert without an id is no hotspot
	))
	got, err := s.HotspotsRaised(context.Background(), day, day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []HotspotRaised{{ID: "hotspot-2", Issue: "电梯故障", Place: "阳光花园3号楼", Department: "housing",
		Raised: day.Add(9 * time.Hour).UTC(), Calls: 5, State: "acknowledged"}}, got)
}
