package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// urgentSchema lets the wallboard find the day's urgent drafts without reading every draft
// of the day: a call of the day has its latest draft written that day or later, and few
// are urgent. The read is made under the desk's publishing lock, so it must stay short on a
// busy day (BenchmarkUrgentCalls). The index's condition is the query's, word for word, so
// that SQLite uses it.
const urgentSchema = `
CREATE INDEX IF NOT EXISTS workorder_drafts_urgent ON workorder_drafts(at_ms) WHERE json_extract(data, '$.urgent') = 1;
`

// UrgentCall is a call whose latest work-order draft is urgent (the draft's "urgent" field)
// and that still needs a supervisor's eye: the call is in progress, or its latest work
// order is neither queued nor delivered (none submitted yet, or a dead letter).
type UrgentCall struct {
	CallID string
	Seat   string
	Draft  json.RawMessage // the call's latest draft, as the screen shows it
	// At is when the call was offered; the draft's time for a call not stored.
	At time.Time
}

// UrgentCalls implements Store.
func (s *SQLite) UrgentCalls(ctx context.Context, from, to time.Time, limit int) ([]UrgentCall, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.call_id, d.seat, d.data, COALESCE(c.offered_ms, d.at_ms) AS at
		FROM workorder_drafts d LEFT JOIN calls c ON c.id = d.call_id
		WHERE json_extract(d.data, '$.urgent') = 1 AND d.at_ms >= ?
		AND COALESCE(c.offered_ms, d.at_ms) >= ? AND COALESCE(c.offered_ms, d.at_ms) < ?
		AND ((c.id IS NOT NULL AND c.ended_ms IS NULL) OR COALESCE((SELECT o.state FROM workorder_outbox o
			WHERE o.call_id = d.call_id ORDER BY o.version DESC LIMIT 1), '') NOT IN (?, ?))
		ORDER BY at DESC, d.call_id LIMIT ?`,
		ms(from), ms(from), ms(to), OrderPending, OrderDelivered, limit)
	if err != nil {
		return nil, fmt.Errorf("store: urgent calls: %w", err)
	}
	defer rows.Close()
	var out []UrgentCall
	for rows.Next() {
		var u UrgentCall
		var data string
		var at int64
		if err := rows.Scan(&u.CallID, &u.Seat, &data, &at); err != nil {
			return nil, fmt.Errorf("store: urgent calls: %w", err)
		}
		u.Draft, u.At = json.RawMessage(data), time.UnixMilli(at).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}
