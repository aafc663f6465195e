package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func open(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lianxin.db")
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, path
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestAppendAssignsIncreasingSeqAndFilters(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	var last int64
	for i := range 6 {
		seat := fmt.Sprintf("seat-%02d", i%2+1)
		ev, err := s.Append(ctx, Event{Type: "seat.state", Time: t0.Add(time.Duration(i) * time.Second),
			Seat: seat, CallID: fmt.Sprint("c", i%3), Data: json.RawMessage(`{"state":"available"}`)})
		require.NoError(t, err)
		require.Greater(t, ev.Seq, last)
		last = ev.Seq
	}
	all, err := s.Events(ctx, EventFilter{})
	require.NoError(t, err)
	require.Len(t, all, 6)
	require.Equal(t, t0.Add(5*time.Second), all[5].Time)
	require.JSONEq(t, `{"state":"available"}`, string(all[0].Data))

	seat1, err := s.Events(ctx, EventFilter{Seat: "seat-01", AfterSeq: all[0].Seq})
	require.NoError(t, err)
	require.Len(t, seat1, 2)
	for _, ev := range seat1 {
		require.Equal(t, "seat-01", ev.Seat)
	}
	upto, err := s.Events(ctx, EventFilter{UpToSeq: all[2].Seq, CallID: "c1"})
	require.NoError(t, err)
	require.Len(t, upto, 1)
	require.Equal(t, all[1].Seq, upto[0].Seq)

	ls, err := s.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, last, ls)

	// seq survives a restart: a reopened database continues after the last seq
	s2, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s2.Close()
	ev, err := s2.Append(ctx, Event{Type: "x", Time: t0})
	require.NoError(t, err)
	require.Greater(t, ev.Seq, last)
}

func TestConcurrentWritersDoNotFail(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				_, err := s.Append(ctx, Event{Type: "dtmf", Time: t0, CallID: fmt.Sprint(w)},
					SeatState{Seat: fmt.Sprint(w), State: "busy", At: t0.Add(time.Duration(i))})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	evs, err := s.Events(ctx, EventFilter{Limit: 500})
	require.NoError(t, err)
	require.Len(t, evs, 200)
}

func TestCallLifecycleAndDetail(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, Call{ID: "c1", From: "sip:13800@x", To: "12345", Seat: "seat-01", OfferedAt: t0}))
	require.NoError(t, s.Write(ctx, Leg{CallID: "c1", Leg: "caller", Codec: "PCMU", StartedAt: t0}))
	require.NoError(t, s.Write(ctx, CallAnswered{CallID: "c1", Seat: "seat-01", At: t0.Add(4 * time.Second)}))
	require.ErrorIs(t, s.Write(ctx, CallAnswered{CallID: "c1", Seat: "seat-01", At: t0}), ErrNotFound, "answered once")
	require.NoError(t, s.Write(ctx,
		Utterance{CallID: "c1", Seat: "seat-01", Channel: "caller", UtteranceID: "u2", Text: "楼上装修噪音很大", StartMS: 3000, EndMS: 5000, Confidence: 0.9, At: t0},
		Utterance{CallID: "c1", Seat: "seat-01", Channel: "agent", UtteranceID: "u1", Text: "您好，12345", StartMS: 0, EndMS: 1500, Confidence: 0.8, At: t0},
		Suggestion{CallID: "c1", Seat: "seat-01", At: t0, Departments: []Department{{ID: "env", Name: "生态环境局", Score: 0.8, Evidence: []string{"噪音"}}}},
		Decision{CallID: "c1", Seat: "seat-01", Department: "env", Suggested: "env", Accepted: true, At: t0},
	))
	require.NoError(t, s.Write(ctx, CallEnded{CallID: "c1", At: t0.Add(64 * time.Second), Reason: "bye"}))
	require.ErrorIs(t, s.Write(ctx, CallEnded{CallID: "c1", At: t0}), ErrNotFound, "a call ends once")

	d, err := s.Call(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, "answered", d.Outcome)
	require.Equal(t, "seat-01", d.Seat)
	require.Equal(t, t0.Add(4*time.Second), *d.AnsweredAt)
	require.Len(t, d.Legs, 1)
	require.Len(t, d.Utterances, 2)
	require.Equal(t, "u1", d.Utterances[0].UtteranceID, "transcript in speech order")
	require.Equal(t, []string{"噪音"}, d.Suggestions[0].Departments[0].Evidence)
	require.True(t, d.Decisions[0].Accepted)

	_, err = s.Call(ctx, "missing")
	require.ErrorIs(t, err, ErrNotFound)

	// a write batch that fails leaves nothing behind
	err = s.Write(ctx, Call{ID: "c2", OfferedAt: t0}, CallEnded{CallID: "c2", At: t0}, CallEnded{CallID: "c2", At: t0})
	require.Error(t, err)
	_, err = s.Call(ctx, "c2")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestSearchChinese(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	texts := []struct{ call, seat, text string }{
		{"c1", "seat-01", "楼上装修噪音很大，晚上十一点还在施工"},
		{"c2", "seat-02", "我们小区停水三天了，没有任何通知"},
		{"c3", "seat-01", "路灯坏了，晚上很黑"},
		{"c4", "seat-03", "the street light is broken"},
	}
	for i, x := range texts {
		require.NoError(t, s.Write(ctx, Utterance{CallID: x.call, Seat: x.seat, Channel: "caller",
			UtteranceID: fmt.Sprint(i), Text: x.text, At: t0.Add(time.Duration(i) * time.Second)}))
	}
	search := func(q, seat string) []string {
		hits, err := s.SearchUtterances(ctx, SearchQuery{Text: q, Seat: seat})
		require.NoError(t, err)
		var calls []string
		for _, h := range hits {
			calls = append(calls, h.CallID)
		}
		return calls
	}
	require.Equal(t, []string{"c1"}, search("装修噪音", ""))
	require.Equal(t, []string{"c2"}, search("停水三天", ""))
	require.Equal(t, []string{"c3", "c1"}, search("晚上", ""), "two-character terms fall back to a scan")
	require.Equal(t, []string{"c1"}, search("晚上 施工", ""), "every term must occur")
	require.Equal(t, []string{"c1"}, search("晚上十一点", "seat-01"))
	require.Empty(t, search("停水三天", "seat-01"), "seat filter")
	require.Equal(t, []string{"c4"}, search("STREET light", ""), "trigram matching is case-insensitive")
	require.Empty(t, search(`"噪音"`, ""), "quotes are literal text, not query syntax")
	_, err := s.SearchUtterances(ctx, SearchQuery{Text: "  "})
	require.ErrorIs(t, err, ErrBadQuery)
}

// A search too long or with too many terms is refused before it runs, as ErrBadQuery; one at
// the limits runs; a search whose context has ended does not run.
func TestSearchLimits(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, Utterance{CallID: "c1", Channel: "caller", UtteranceID: "1",
		Text: "路灯坏了 晚上很黑", At: t0}))
	for name, q := range map[string]string{
		"terms":       strings.Repeat("路 ", MaxSearchTerms+1),
		"characters":  strings.Repeat("灯", MaxSearchChars+1),
		"huge":        strings.Repeat("x ", 200_000),
		"empty":       "",
		"only spaces": " \t ",
	} {
		hits, err := s.SearchUtterances(ctx, SearchQuery{Text: q})
		require.ErrorIs(t, err, ErrBadQuery, name)
		require.Nil(t, hits, name)
	}
	hits, err := s.SearchUtterances(ctx, SearchQuery{Text: strings.TrimSpace(strings.Repeat("路灯 ", MaxSearchTerms))})
	require.NoError(t, err)
	require.Len(t, hits, 1, "a query at the term limit runs")
	hits, err = s.SearchUtterances(ctx, SearchQuery{Text: "晚上 " + strings.Repeat("黑", MaxSearchChars-3)})
	require.NoError(t, err)
	require.Empty(t, hits, "a query at the length limit runs")

	done, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err = s.SearchUtterances(done, SearchQuery{Text: "路灯"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDayStatsAndCalls(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	day := t0.Truncate(24 * time.Hour)
	w := func(rows ...Row) { require.NoError(t, s.Write(ctx, rows...)) }
	// answered after 10 s, talked 60 s, decided env
	w(Call{ID: "a", Seat: "seat-01", OfferedAt: t0}, CallAnswered{CallID: "a", Seat: "seat-01", At: t0.Add(10 * time.Second)},
		CallEnded{CallID: "a", At: t0.Add(70 * time.Second)},
		Decision{CallID: "a", Department: "water", At: t0}, Decision{CallID: "a", Department: "env", At: t0})
	// answered after 20 s, still talking
	w(Call{ID: "b", Seat: "seat-02", OfferedAt: t0}, CallAnswered{CallID: "b", Seat: "seat-02", At: t0.Add(20 * time.Second)},
		Decision{CallID: "b", Department: "env", Accepted: true, At: t0})
	// caller hung up in the queue (no seat ever rang: no call row before); gateway failure
	w(CallEnded{CallID: "c", At: t0.Add(5 * time.Second)})
	w(Call{ID: "d", OfferedAt: t0}, CallEnded{CallID: "d", At: t0, Failed: true, Reason: "no seat"})
	// yesterday
	w(Call{ID: "y", OfferedAt: day.Add(-time.Hour)})

	st, err := s.DayStats(ctx, day, day.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, DayStats{Offered: 4, Answered: 2, Abandoned: 1, Failed: 1, AnsweredIn20s: 2, AvgWaitMS: 15000, AvgTalkMS: 60000,
		Departments: map[string]int{"env": 2}, Survey: map[string]int{}}, st)

	calls, err := s.Calls(ctx, CallFilter{From: day, Seat: "seat-01"})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	require.Equal(t, "a", calls[0].ID)
	calls, err = s.Calls(ctx, CallFilter{To: day})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	require.Equal(t, "y", calls[0].ID)
}

// The database and its WAL and shared-memory files are readable by the owner only, in a
// folder of the owner's; a database an older version left world-readable is restricted.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "lianxin.db")
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), Call{ID: "c1", OfferedAt: t0}))
	mode := func(p string) os.FileMode {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		return fi.Mode().Perm()
	}
	require.Equal(t, os.FileMode(0o700), mode(dir))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		require.Equal(t, os.FileMode(0o600), mode(p), p)
	}
	require.NoError(t, s.Close())

	require.NoError(t, os.Chmod(path, 0o644))
	s, err = OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Equal(t, os.FileMode(0o600), mode(path))
}

// Calls the process stopped under are found at start-up with the time they were last
// heard of; ended calls are not.
func TestOpenCalls(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	ev := func(typ, call string, at time.Time) Event {
		return Event{Type: typ, Time: at, CallID: call, Data: json.RawMessage(`{}`)}
	}
	_, err := s.Append(ctx, ev("call.offered", "open", t0), Call{ID: "open", From: "138", OfferedAt: t0})
	require.NoError(t, err)
	_, err = s.Append(ctx, ev("call.answered", "open", t0.Add(5*time.Second)), CallAnswered{CallID: "open", Seat: "seat-01", At: t0.Add(5 * time.Second)})
	require.NoError(t, err)
	_, err = s.Append(ctx, ev("transcript.final", "open", t0.Add(42*time.Second)))
	require.NoError(t, err)
	_, err = s.Append(ctx, ev("call.offered", "done", t0), Call{ID: "done", OfferedAt: t0})
	require.NoError(t, err)
	_, err = s.Append(ctx, ev("call.ended", "done", t0.Add(time.Minute)), CallEnded{CallID: "done", At: t0.Add(time.Minute)})
	require.NoError(t, err)
	require.NoError(t, s.Write(ctx, Call{ID: "queued", OfferedAt: t0.Add(time.Second)}))

	open, err := s.OpenCalls(ctx)
	require.NoError(t, err)
	require.Len(t, open, 2)
	require.Equal(t, "open", open[0].ID)
	require.Equal(t, t0.Add(42*time.Second), open[0].LastSeen, "the last event's time")
	require.Equal(t, "seat-01", open[0].Seat)
	require.Equal(t, "queued", open[1].ID)
	require.Equal(t, t0.Add(time.Second), open[1].LastSeen, "no events: the offer's time")
}

// Sessions outlive a reopen with their own expiry; expired and deleted ones do not.
func TestSessionsSurviveReopen(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	for _, r := range []SessionRecord{
		{ID: "live", User: "seat-07", Role: "seat", Seat: "seat-07", Expires: t0.Add(time.Hour)},
		{ID: "gone", User: "admin", Role: "admin", Expires: t0.Add(-time.Minute)},
		{ID: "out", User: "seat-08", Role: "seat", Seat: "seat-08", Expires: t0.Add(time.Hour)},
	} {
		require.NoError(t, s.SaveSession(ctx, r))
	}
	require.NoError(t, s.DeleteSession(ctx, "out"))
	require.NoError(t, s.Close())
	s2, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s2.Close()
	got, err := s2.Sessions(ctx, t0)
	require.NoError(t, err)
	require.Equal(t, []SessionRecord{{ID: "live", User: "seat-07", Role: "seat", Seat: "seat-07", Expires: t0.Add(time.Hour)}}, got)
}

// The day's figures count the satisfaction answers of the calls that had a survey.
func TestDayStatsSurvey(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for i, ans := range []string{"satisfied", "satisfied", "basic", "no_answer", ""} {
		id := fmt.Sprint("s", i)
		require.NoError(t, s.Write(ctx, Call{ID: id, OfferedAt: t0.Add(time.Duration(i) * time.Minute)},
			CallEnded{CallID: id, At: t0.Add(time.Hour), Survey: ans}))
	}
	st, err := s.DayStats(ctx, t0, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"satisfied": 2, "basic": 1, "no_answer": 1}, st.Survey)
	require.Equal(t, 5, st.Offered)
}

// Calls are found by the department they went to (the latest decision, else the draft's)
// and by the issue type of their work-order draft.
func TestCallsByDepartmentAndIssue(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	draft := func(id, dept, issue string) WorkOrderDraft {
		return WorkOrderDraft{CallID: id, Data: json.RawMessage(`{"call_id":"` + id + `","department":"` + dept + `","issue":"` + issue + `"}`), At: t0}
	}
	require.NoError(t, s.Write(ctx,
		Call{ID: "a", OfferedAt: t0}, draft("a", "water", "water-cut"),
		Call{ID: "b", OfferedAt: t0.Add(time.Minute)}, draft("b", "water", "water-cut"),
		Decision{CallID: "b", Department: "housing", At: t0}, // the agent sent it elsewhere
		Call{ID: "c", OfferedAt: t0.Add(2 * time.Minute)}, draft("c", "housing", "lift-fault"),
		Call{ID: "d", OfferedAt: t0.Add(3 * time.Minute)},
	))
	ids := func(f CallFilter) []string {
		calls, err := s.Calls(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, c := range calls {
			out = append(out, c.ID)
		}
		return out
	}
	require.Equal(t, []string{"c", "b"}, ids(CallFilter{Department: "housing"}), "the decision wins over the draft")
	require.Equal(t, []string{"a"}, ids(CallFilter{Department: "water"}))
	require.Equal(t, []string{"b", "a"}, ids(CallFilter{Issue: "water-cut"}))
	require.Equal(t, []string{"c"}, ids(CallFilter{Department: "housing", Issue: "lift-fault"}))
	require.Len(t, ids(CallFilter{}), 4)
}
