package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Events implements Store.
func (s *SQLite) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	q := `SELECT seq, type, time_ns, call_id, seat, data FROM events WHERE seq > ?`
	args := []any{f.AfterSeq}
	if f.UpToSeq > 0 {
		q += ` AND seq <= ?`
		args = append(args, f.UpToSeq)
	}
	if f.Seat != "" {
		q += ` AND seat = ?`
		args = append(args, f.Seat)
	}
	if f.CallID != "" {
		q += ` AND call_id = ?`
		args = append(args, f.CallID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var ns int64
		var data string
		if err := rows.Scan(&ev.Seq, &ev.Type, &ns, &ev.CallID, &ev.Seat, &data); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		ev.Time = time.Unix(0, ns).UTC()
		ev.Data = json.RawMessage(data)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// LastSeq implements Store.
func (s *SQLite) LastSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	return seq.Int64, nil
}

const callCols = `id, from_uri, to_uri, queue, seat, offered_ms, answered_ms, ended_ms, end_reason, outcome, survey`

// scanCall reads the callCols of a row, then any extra columns into extra.
func scanCall(sc interface{ Scan(...any) error }, extra ...any) (Call, error) {
	var c Call
	var offered int64
	var answered, ended sql.NullInt64
	dest := append([]any{&c.ID, &c.From, &c.To, &c.Queue, &c.Seat, &offered, &answered, &ended, &c.EndReason, &c.Outcome, &c.Survey}, extra...)
	err := sc.Scan(dest...)
	c.OfferedAt = time.UnixMilli(offered).UTC()
	c.AnsweredAt, c.EndedAt = fromMS(answered), fromMS(ended)
	return c, err
}

// Call implements Store.
func (s *SQLite) Call(ctx context.Context, id string) (CallDetail, error) {
	var d CallDetail
	c, err := scanCall(s.r.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: call %s: %w", id, err)
	}
	d.Call = c
	if d.Legs, err = s.legs(ctx, id); err != nil {
		return d, err
	}
	if d.Utterances, err = s.utterances(ctx, `WHERE u.call_id = ? ORDER BY u.start_ms, u.id`, id); err != nil {
		return d, err
	}
	if d.Suggestions, err = s.suggestions(ctx, id); err != nil {
		return d, err
	}
	d.Decisions, err = s.decisions(ctx, id)
	return d, err
}

func (s *SQLite) legs(ctx context.Context, id string) ([]Leg, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT call_id, leg, peer, codec, started_ms, ended_ms`+legQualitySelect+`
		FROM legs WHERE call_id = ? ORDER BY started_ms, leg`, id)
	if err != nil {
		return nil, fmt.Errorf("store: legs: %w", err)
	}
	defer rows.Close()
	out := []Leg{}
	for rows.Next() {
		var l Leg
		var started int64
		var ended sql.NullInt64
		var q qualityScan
		if err := rows.Scan(append([]any{&l.CallID, &l.Leg, &l.Peer, &l.Codec, &started, &ended}, q.dest()...)...); err != nil {
			return nil, fmt.Errorf("store: legs: %w", err)
		}
		l.StartedAt, l.EndedAt = time.UnixMilli(started).UTC(), fromMS(ended)
		if l.Quality, err = q.quality(); err != nil {
			return nil, fmt.Errorf("store: legs: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *SQLite) utterances(ctx context.Context, where string, args ...any) ([]Utterance, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.call_id, u.seat, u.channel, u.utterance_id, u.text,
		u.start_ms, u.end_ms, u.confidence, u.at_ms FROM utterances u `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: utterances: %w", err)
	}
	defer rows.Close()
	out := []Utterance{}
	for rows.Next() {
		var u Utterance
		var at int64
		if err := rows.Scan(&u.CallID, &u.Seat, &u.Channel, &u.UtteranceID, &u.Text,
			&u.StartMS, &u.EndMS, &u.Confidence, &at); err != nil {
			return nil, fmt.Errorf("store: utterances: %w", err)
		}
		u.At = time.UnixMilli(at).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *SQLite) suggestions(ctx context.Context, id string) ([]Suggestion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT call_id, seat, departments, at_ms FROM suggestions
		WHERE call_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: suggestions: %w", err)
	}
	defer rows.Close()
	out := []Suggestion{}
	for rows.Next() {
		var sg Suggestion
		var deps string
		var at int64
		if err := rows.Scan(&sg.CallID, &sg.Seat, &deps, &at); err != nil {
			return nil, fmt.Errorf("store: suggestions: %w", err)
		}
		if err := json.Unmarshal([]byte(deps), &sg.Departments); err != nil {
			return nil, fmt.Errorf("store: suggestion departments: %w", err)
		}
		sg.At = time.UnixMilli(at).UTC()
		out = append(out, sg)
	}
	return out, rows.Err()
}

func (s *SQLite) decisions(ctx context.Context, id string) ([]Decision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT call_id, seat, department, suggested, accepted, at_ms
		FROM decisions WHERE call_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var at int64
		if err := rows.Scan(&d.CallID, &d.Seat, &d.Department, &d.Suggested, &d.Accepted, &at); err != nil {
			return nil, fmt.Errorf("store: decisions: %w", err)
		}
		d.At = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Calls implements Store.
func (s *SQLite) Calls(ctx context.Context, f CallFilter) ([]Call, error) {
	q := `SELECT ` + callCols + ` FROM calls WHERE 1=1`
	var args []any
	if f.Seat != "" {
		q += ` AND seat = ?`
		args = append(args, f.Seat)
	}
	if f.Department != "" {
		q += ` AND (EXISTS (SELECT 1 FROM decisions d WHERE d.call_id = calls.id AND d.department = ?
			AND d.id = (SELECT MAX(id) FROM decisions WHERE call_id = calls.id))
			OR NOT EXISTS (SELECT 1 FROM decisions d WHERE d.call_id = calls.id)
			AND EXISTS (SELECT 1 FROM workorder_drafts w WHERE w.call_id = calls.id
			AND json_extract(w.data, '$.department') = ?))`
		args = append(args, f.Department, f.Department)
	}
	if f.Issue != "" {
		q += ` AND EXISTS (SELECT 1 FROM workorder_drafts w WHERE w.call_id = calls.id AND json_extract(w.data, '$.issue') = ?)`
		args = append(args, f.Issue)
	}
	if !f.From.IsZero() {
		q += ` AND offered_ms >= ?`
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND offered_ms < ?`
		args = append(args, ms(f.To))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY offered_ms DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	defer rows.Close()
	out := []Call{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("store: calls: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// OpenCalls implements Store.
func (s *SQLite) OpenCalls(ctx context.Context) ([]OpenCall, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+callCols+`,
		(SELECT MAX(time_ns) FROM events WHERE events.call_id = calls.id)
		FROM calls WHERE ended_ms IS NULL ORDER BY offered_ms`)
	if err != nil {
		return nil, fmt.Errorf("store: open calls: %w", err)
	}
	defer rows.Close()
	var out []OpenCall
	for rows.Next() {
		var last sql.NullInt64
		c, err := scanCall(rows, &last)
		if err != nil {
			return nil, fmt.Errorf("store: open calls: %w", err)
		}
		oc := OpenCall{Call: c, LastSeen: c.OfferedAt}
		if last.Valid {
			oc.LastSeen = time.Unix(0, last.Int64).UTC()
		}
		out = append(out, oc)
	}
	return out, rows.Err()
}

// SearchUtterances implements Store. Terms of three or more characters use the FTS5 trigram
// index (which also serves Chinese, where words are not space-separated); the trigram
// tokenizer cannot match shorter terms, and two-character Chinese words are common (噪音,
// 停水), so those fall back to a substring scan over the rows the other terms selected. Both
// read the redacted text, so no term finds a caller by an ID, phone or card number.
func (s *SQLite) SearchUtterances(ctx context.Context, q SearchQuery) ([]Utterance, error) {
	terms, err := searchTerms(q.Text)
	if err != nil {
		return nil, err
	}
	var match []string
	where := `WHERE 1=1`
	var args []any
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= 3 {
			match = append(match, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
			continue
		}
		where += ` AND instr(u.text_redacted, ?) > 0`
		args = append(args, t)
	}
	if len(match) > 0 {
		where += ` AND u.id IN (SELECT rowid FROM utterances_rfts WHERE utterances_rfts MATCH ?)`
		args = append(args, strings.Join(match, " AND "))
	}
	if q.Seat != "" {
		where += ` AND u.seat = ?`
		args = append(args, q.Seat)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	where += ` ORDER BY u.at_ms DESC, u.id DESC LIMIT ?`
	args = append(args, limit)
	return s.utterances(ctx, where, args...)
}

// searchTerms splits text into terms within the search limits. The byte length is checked
// before anything else, so a huge query costs nothing to refuse.
func searchTerms(text string) ([]string, error) {
	if len(text) > utf8.UTFMax*MaxSearchChars || utf8.RuneCountInString(text) > MaxSearchChars {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrBadQuery, MaxSearchChars)
	}
	// Control characters mean nothing in a search and a NUL cuts SQLite's FTS5 query string
	// short (an SQL error, not a refusal): they separate terms like spaces.
	terms := strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	if len(terms) == 0 {
		return nil, fmt.Errorf("%w: no terms", ErrBadQuery)
	}
	if len(terms) > MaxSearchTerms {
		return nil, fmt.Errorf("%w: %d terms, at most %d", ErrBadQuery, len(terms), MaxSearchTerms)
	}
	return terms, nil
}

// countInto adds the (key, count) rows of query to m.
func (s *SQLite) countInto(ctx context.Context, m map[string]int, query string, args ...any) error {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		m[k] += n
	}
	return rows.Err()
}

// DayStats implements Store.
func (s *SQLite) DayStats(ctx context.Context, from, to time.Time) (DayStats, error) {
	st := DayStats{Departments: map[string]int{}, Survey: map[string]int{}}
	var wait, talk sql.NullFloat64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(answered_ms IS NOT NULL), 0),
		COALESCE(SUM(outcome = 'abandoned'), 0),
		COALESCE(SUM(outcome = 'failed'), 0),
		COALESCE(SUM(answered_ms IS NOT NULL AND answered_ms - offered_ms <= 20000), 0),
		AVG(answered_ms - offered_ms),
		AVG(CASE WHEN ended_ms IS NOT NULL AND answered_ms IS NOT NULL THEN ended_ms - answered_ms END)
		FROM calls WHERE offered_ms >= ? AND offered_ms < ?`, ms(from), ms(to)).
		Scan(&st.Offered, &st.Answered, &st.Abandoned, &st.Failed, &st.AnsweredIn20s, &wait, &talk)
	if err != nil {
		return st, fmt.Errorf("store: day stats: %w", err)
	}
	st.AvgWaitMS, st.AvgTalkMS = int64(wait.Float64), int64(talk.Float64)
	if err := s.countInto(ctx, st.Survey, `SELECT survey, COUNT(*) FROM calls
		WHERE offered_ms >= ? AND offered_ms < ? AND survey != '' GROUP BY survey`, ms(from), ms(to)); err != nil {
		return st, fmt.Errorf("store: day stats: %w", err)
	}
	// a call counts once, for the department of its latest decision
	err = s.countInto(ctx, st.Departments, `SELECT d.department, COUNT(*) FROM decisions d
		JOIN calls c ON c.id = d.call_id
		WHERE c.offered_ms >= ? AND c.offered_ms < ?
		AND d.id = (SELECT MAX(id) FROM decisions WHERE call_id = d.call_id)
		GROUP BY d.department`, ms(from), ms(to))
	if err != nil {
		return st, fmt.Errorf("store: day stats: %w", err)
	}
	return st, nil
}
