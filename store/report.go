package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Analytics are the queries behind the analysis reports (数据分析报告) and the wallboard's
// charts. Every period is [from, to) of the calls' offer times. SQLite implements them.
type Analytics interface {
	// Arrivals counts the calls offered per quarter hour of Unix time, the quarters that
	// had calls only, in time order. Quarters of Unix time line up with the hours of every
	// time zone in use, so a caller groups them into its own local hours.
	Arrivals(ctx context.Context, from, to time.Time) ([]Arrival, error)
	// Breakdown counts calls by department, issue type and, when places > 0, the places
	// most called about (at most places of them).
	Breakdown(ctx context.Context, from, to time.Time, places int) (Breakdown, error)
	// PlaceSpellings counts the calls about each place as their drafts spelled it, every
	// spelling of the period, in the order of their text; a caller that knows which
	// spellings name one place groups them.
	PlaceSpellings(ctx context.Context, from, to time.Time) ([]PlaceSpelling, error)
	// SeatFigures are each seat's answered calls, talk, speed of answer and survey answers.
	SeatFigures(ctx context.Context, from, to time.Time) ([]SeatFigures, error)
	// HotspotsRaised are the hotspot alerts raised in the period, with the calls each
	// grew to and its last state.
	HotspotsRaised(ctx context.Context, from, to time.Time) ([]HotspotRaised, error)
	// RepeatCallers finds the calls of the period made by a number that had called about
	// the same issue type at most within before, that earlier call possibly before the
	// period; one RepeatCaller per number and issue type, most repeats first.
	RepeatCallers(ctx context.Context, from, to time.Time, within time.Duration) ([]RepeatCaller, error)
}

var _ Analytics = (*SQLite)(nil)

// Arrival is one quarter hour's calls.
type Arrival struct {
	Start     time.Time
	Offered   int
	Answered  int
	Abandoned int
}

// Breakdown is a period's calls by what they were about. A call counts for the department
// of its latest decision, else its work-order draft's; for its draft's issue type and
// place. Calls with none of them are not counted.
type Breakdown struct {
	Departments map[string]int // department id -> calls
	Issues      map[string]int // issue type id -> calls
	Places      []PlaceCount   // most calls first
}

// PlaceCount is the calls about one place, as the drafts spelled it, and the issue type
// most of them were about.
type PlaceCount struct {
	Place string
	Calls int
	Issue string
}

// PlaceSpelling is the calls of a period whose drafts spelled their place one way.
type PlaceSpelling struct {
	Place  string // as the drafts spelled it, trimmed
	Calls  int
	Issues map[string]int // the calls by their draft's issue type, those without one left out
	First  time.Time      // when the first of them was offered
}

// SeatFigures are one seat's answered calls in a period.
type SeatFigures struct {
	Seat        string
	Answered    int
	TalkMS      int64 // total talk of the calls that ended
	AvgTalkMS   int64
	AvgAnswerMS int64 // from offer to answer
	// Survey counts the survey answers of the seat's calls, by answer.
	Survey map[string]int
}

// HotspotRaised is one hotspot alert raised in a period.
type HotspotRaised struct {
	ID         string
	Issue      string
	Place      string
	Department string
	Raised     time.Time
	Calls      int    // the most calls it counted
	State      string // its last state: raised, grown, acknowledged, closed, expired
}

// RepeatCaller is one number that called again about one issue type within the window.
type RepeatCaller struct {
	// Number is the caller's number as the hotline dials it back: digits only, without
	// +86 or a trunk's leading 0 before a mobile number. Callers decide how much of it
	// to show.
	Number string
	Issue  string
	// Repeats are the calls of the period that repeated an earlier one; Calls every call
	// in those pairs (the first of them may be before the period).
	Repeats     int
	Calls       int
	First, Last time.Time
	CallIDs     []string
}

const quarterMS = 15 * 60 * 1000

// Arrivals implements Analytics.
func (s *SQLite) Arrivals(ctx context.Context, from, to time.Time) ([]Arrival, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT offered_ms / ? AS q, COUNT(*),
		COALESCE(SUM(answered_ms IS NOT NULL), 0), COALESCE(SUM(outcome = 'abandoned'), 0)
		FROM calls WHERE offered_ms >= ? AND offered_ms < ? GROUP BY q ORDER BY q`, quarterMS, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: arrivals: %w", err)
	}
	defer rows.Close()
	var out []Arrival
	for rows.Next() {
		var q int64
		var a Arrival
		if err := rows.Scan(&q, &a.Offered, &a.Answered, &a.Abandoned); err != nil {
			return nil, fmt.Errorf("store: arrivals: %w", err)
		}
		a.Start = time.UnixMilli(q * quarterMS).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// Breakdown implements Analytics.
func (s *SQLite) Breakdown(ctx context.Context, from, to time.Time, places int) (Breakdown, error) {
	b := Breakdown{Departments: map[string]int{}, Issues: map[string]int{}}
	// the latest decision wins over the draft's suggestion, as in the history's filter
	rows, err := s.r.QueryContext(ctx, `SELECT
		COALESCE((SELECT d.department FROM decisions d WHERE d.call_id = c.id ORDER BY d.id DESC LIMIT 1),
			json_extract(w.data, '$.department'), ''),
		COALESCE(json_extract(w.data, '$.issue'), ''), COUNT(*)
		FROM calls c LEFT JOIN workorder_drafts w ON w.call_id = c.id
		WHERE c.offered_ms >= ? AND c.offered_ms < ? GROUP BY 1, 2`, ms(from), ms(to))
	if err != nil {
		return b, fmt.Errorf("store: breakdown: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dept, issue string
		var n int
		if err := rows.Scan(&dept, &issue, &n); err != nil {
			return b, fmt.Errorf("store: breakdown: %w", err)
		}
		if dept != "" {
			b.Departments[dept] += n
		}
		if issue != "" {
			b.Issues[issue] += n
		}
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("store: breakdown: %w", err)
	}
	if places > 0 {
		b.Places, err = s.topPlaces(ctx, from, to, places)
	}
	return b, err
}

// topPlaces keeps the n spellings of places with the most calls, each with the issue type
// most of them were about.
func (s *SQLite) topPlaces(ctx context.Context, from, to time.Time, n int) ([]PlaceCount, error) {
	spellings, err := s.PlaceSpellings(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]PlaceCount, 0, len(spellings))
	for _, sp := range spellings {
		out = append(out, PlaceCount{Place: sp.Place, Calls: sp.Calls, Issue: MainIssue(sp.Issues)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Calls > out[j].Calls })
	return out[:min(n, len(out))], nil
}

// MainIssue is the issue type with the most calls, the first by id of those tied; "" for
// none.
func MainIssue(calls map[string]int) string {
	best := ""
	for id, n := range calls {
		if best == "" || n > calls[best] || n == calls[best] && id < best {
			best = id
		}
	}
	return best
}

// PlaceSpellings implements Analytics.
func (s *SQLite) PlaceSpellings(ctx context.Context, from, to time.Time) ([]PlaceSpelling, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT trim(json_extract(w.data, '$.place')) AS place,
		COALESCE(json_extract(w.data, '$.issue'), ''), COUNT(*), MIN(c.offered_ms)
		FROM calls c JOIN workorder_drafts w ON w.call_id = c.id
		WHERE c.offered_ms >= ? AND c.offered_ms < ? AND place != '' GROUP BY 1, 2 ORDER BY 1`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: places: %w", err)
	}
	defer rows.Close()
	var out []PlaceSpelling
	for rows.Next() {
		var place, issue string
		var n int
		var first int64
		if err := rows.Scan(&place, &issue, &n, &first); err != nil {
			return nil, fmt.Errorf("store: places: %w", err)
		}
		at := time.UnixMilli(first).UTC()
		if len(out) == 0 || out[len(out)-1].Place != place {
			out = append(out, PlaceSpelling{Place: place, Issues: map[string]int{}, First: at})
		}
		sp := &out[len(out)-1]
		sp.Calls += n
		if issue != "" {
			sp.Issues[issue] += n
		}
		if at.Before(sp.First) {
			sp.First = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: places: %w", err)
	}
	return out, nil
}

// SeatFigures implements Analytics.
func (s *SQLite) SeatFigures(ctx context.Context, from, to time.Time) ([]SeatFigures, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seat, COUNT(*),
		COALESCE(SUM(ended_ms - answered_ms), 0), COALESCE(AVG(ended_ms - answered_ms), 0),
		AVG(answered_ms - offered_ms),
		SUM(survey = 'satisfied'), SUM(survey = 'basic'), SUM(survey = 'dissatisfied'), SUM(survey = 'no_answer')
		FROM calls WHERE offered_ms >= ? AND offered_ms < ? AND answered_ms IS NOT NULL AND seat != ''
		GROUP BY seat ORDER BY seat`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: seat figures: %w", err)
	}
	defer rows.Close()
	var out []SeatFigures
	for rows.Next() {
		var f SeatFigures
		var avgTalk, avgAnswer float64
		var sat, basic, dis, none int
		if err := rows.Scan(&f.Seat, &f.Answered, &f.TalkMS, &avgTalk, &avgAnswer, &sat, &basic, &dis, &none); err != nil {
			return nil, fmt.Errorf("store: seat figures: %w", err)
		}
		f.AvgTalkMS, f.AvgAnswerMS = int64(avgTalk), int64(avgAnswer)
		f.Survey = map[string]int{}
		for k, v := range map[string]int{"satisfied": sat, "basic": basic, "dissatisfied": dis, "no_answer": none} {
			if v > 0 {
				f.Survey[k] = v
			}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// HotspotsRaised implements Analytics. An alert is one id across its rows (raised, grown,
// acknowledged…); it belongs to the period it was raised in.
func (s *SQLite) HotspotsRaised(ctx context.Context, from, to time.Time) ([]HotspotRaised, error) {
	rows, err := s.r.QueryContext(ctx, `WITH a AS (SELECT id AS row, json_extract(data, '$.id') AS aid,
			json_extract(data, '$.state') AS state, count, at_ms,
			COALESCE(json_extract(data, '$.issue'), '') AS issue, COALESCE(json_extract(data, '$.place'), '') AS place,
			department FROM alerts WHERE json_extract(data, '$.id') IS NOT NULL)
		SELECT aid, MAX(issue), MAX(place), MAX(department), MIN(CASE WHEN state = 'raised' THEN at_ms END) AS raised,
			MAX(count), (SELECT b.state FROM a b WHERE b.aid = a.aid ORDER BY b.row DESC LIMIT 1)
		FROM a GROUP BY aid HAVING raised >= ? AND raised < ? ORDER BY raised`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: hotspots: %w", err)
	}
	defer rows.Close()
	var out []HotspotRaised
	for rows.Next() {
		var h HotspotRaised
		var raised int64
		if err := rows.Scan(&h.ID, &h.Issue, &h.Place, &h.Department, &raised, &h.Calls, &h.State); err != nil {
			return nil, fmt.Errorf("store: hotspots: %w", err)
		}
		h.Raised = time.UnixMilli(raised).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// RepeatCallers implements Analytics. The pairing is done here rather than in SQL because
// numbers arrive in several spellings (+86…, 0086…, a trunk's 0 before a mobile) that must
// be one caller.
func (s *SQLite) RepeatCallers(ctx context.Context, from, to time.Time, within time.Duration) ([]RepeatCaller, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.from_uri, c.offered_ms, json_extract(w.data, '$.issue')
		FROM calls c JOIN workorder_drafts w ON w.call_id = c.id
		WHERE c.offered_ms >= ? AND c.offered_ms < ? AND c.from_uri != ''
		AND COALESCE(json_extract(w.data, '$.issue'), '') != '' ORDER BY c.offered_ms, c.id`, ms(from.Add(-within)), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: repeat callers: %w", err)
	}
	defer rows.Close()
	type key struct{ number, issue string }
	type seen struct {
		id string
		at time.Time
	}
	last := map[key]seen{}
	groups := map[key]*RepeatCaller{}
	inGroup := map[string]bool{}
	add := func(g *RepeatCaller, c seen) {
		if inGroup[c.id] {
			return
		}
		inGroup[c.id] = true
		g.Calls++
		g.CallIDs = append(g.CallIDs, c.id)
		if g.First.IsZero() || c.at.Before(g.First) {
			g.First = c.at
		}
		if c.at.After(g.Last) {
			g.Last = c.at
		}
	}
	for rows.Next() {
		var id, uri, issue string
		var at int64
		if err := rows.Scan(&id, &uri, &at, &issue); err != nil {
			return nil, fmt.Errorf("store: repeat callers: %w", err)
		}
		number := callerNumber(uri)
		if number == "" {
			continue
		}
		k, cur := key{number, issue}, seen{id, time.UnixMilli(at).UTC()}
		prev, ok := last[k]
		last[k] = cur
		if !ok || cur.at.Before(from) || cur.at.Sub(prev.at) > within {
			continue
		}
		g := groups[k]
		if g == nil {
			g = &RepeatCaller{Number: number, Issue: issue}
			groups[k] = g
		}
		g.Repeats++
		add(g, prev)
		add(g, cur)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: repeat callers: %w", err)
	}
	out := make([]RepeatCaller, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Repeats != out[j].Repeats {
			return out[i].Repeats > out[j].Repeats
		}
		return out[i].Last.After(out[j].Last)
	})
	return out, nil
}

// callerNumber is the number a caller ID stands for, digits only: "+86 138-0013-8000",
// "008613800138000" and a trunk's "013800138000" are all 13800138000. An ID with fewer
// than five digits (an extension, "anonymous") is no number: "".
func callerNumber(from string) string {
	var b strings.Builder
	for _, r := range from {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	for _, p := range []string{"0086", "86", "0"} {
		if rest, ok := strings.CutPrefix(d, p); ok && len(rest) == 11 && rest[0] == '1' {
			d = rest
			break
		}
	}
	if len(d) < 5 {
		return ""
	}
	return d
}
