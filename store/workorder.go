package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Work-order delivery states.
const (
	OrderPending   = "pending"
	OrderDelivered = "delivered"
	OrderDead      = "dead"
)

// workOrderSchema holds each call's latest draft and the outbox of submitted orders. The
// outbox is the delivery's only record: a row is pending until the receiver's answer is
// written, so nothing queued is lost when the process stops, and its key never changes.
const workOrderSchema = `
CREATE TABLE IF NOT EXISTS workorder_drafts (
	call_id TEXT PRIMARY KEY,
	seat    TEXT NOT NULL DEFAULT '',
	data    TEXT NOT NULL,
	at_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS workorder_outbox (
	id           INTEGER PRIMARY KEY,
	call_id      TEXT NOT NULL,
	seat         TEXT NOT NULL DEFAULT '',
	version      INTEGER NOT NULL,
	key          TEXT NOT NULL UNIQUE,
	digest       TEXT NOT NULL DEFAULT '',
	body         TEXT NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending',
	attempts     INTEGER NOT NULL DEFAULT 0,
	created_ms   INTEGER NOT NULL,
	since_ms     INTEGER NOT NULL,
	next_ms      INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	order_no     TEXT NOT NULL DEFAULT '',
	delivered_ms INTEGER,
	UNIQUE(call_id, version)
);
CREATE INDEX IF NOT EXISTS workorder_outbox_due ON workorder_outbox(state, next_ms);
`

// WorkOrderDraft is a call's latest work-order draft (the JSON the screen shows); each
// write replaces the one before.
type WorkOrderDraft struct {
	CallID string          `json:"call_id"`
	Seat   string          `json:"seat,omitempty"`
	Data   json.RawMessage `json:"data"`
	At     time.Time       `json:"at"`
}

func (WorkOrderDraft) row() {}

// OutboxOrder is one submitted work order and its delivery.
type OutboxOrder struct {
	ID          int64           `json:"id"`
	CallID      string          `json:"call_id"`
	Seat        string          `json:"seat,omitempty"`
	Version     int             `json:"version"`
	Key         string          `json:"key"`
	Body        json.RawMessage `json:"body"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	CreatedAt   time.Time       `json:"created_at"`
	Since       time.Time       `json:"since"` // queued, or queued again by an admin
	NextAt      time.Time       `json:"next_at"`
	LastError   string          `json:"last_error,omitempty"`
	OrderNo     string          `json:"order_no,omitempty"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// NewOrder is a work order being submitted. Build makes the body and idempotency key of
// the version the store assigns (1 for a call's first order).
type NewOrder struct {
	CallID string
	Seat   string
	// Digest identifies the submitted content: a submission equal to the call's latest
	// version (a double click) returns that version instead of queuing another.
	Digest string
	At     time.Time
	Build  func(version int) (key string, body json.RawMessage, err error)
}

// WorkOrderFilter selects outbox orders. Zero fields do not filter.
type WorkOrderFilter struct {
	State  string
	CallID string
	Limit  int // 0: 100
}

// Outbox keeps submitted work orders until the work-order system has them.
type Outbox interface {
	// EnqueueOrder queues n and returns it; existed reports a repeat of the latest version.
	EnqueueOrder(ctx context.Context, n NewOrder) (o OutboxOrder, existed bool, err error)
	// DueOrders are pending orders due at now, oldest first.
	DueOrders(ctx context.Context, now time.Time, limit int) ([]OutboxOrder, error)
	// OrderDelivered records the receiver's order number.
	OrderDelivered(ctx context.Context, id int64, orderNo string, at time.Time) error
	// OrderRetry counts a failed attempt and sets the next.
	OrderRetry(ctx context.Context, id int64, next time.Time, lastErr string) error
	// OrderDead makes a pending order a dead letter.
	OrderDead(ctx context.Context, id int64, lastErr string, at time.Time) error
	// RequeueOrder makes a dead letter pending again, due at, retried for a full age from
	// at; ErrNotFound unless it is dead.
	RequeueOrder(ctx context.Context, id int64, at time.Time) (OutboxOrder, error)
	// Orders lists orders matching f, newest first.
	Orders(ctx context.Context, f WorkOrderFilter) ([]OutboxOrder, error)
	// Draft returns a call's latest draft.
	Draft(ctx context.Context, callID string) (WorkOrderDraft, error)
}

var _ Outbox = (*SQLite)(nil)

const orderCols = `id, call_id, seat, version, key, body, state, attempts, created_ms, since_ms, next_ms, last_error, order_no, delivered_ms`

func scanOrder(sc interface{ Scan(...any) error }) (OutboxOrder, error) {
	var o OutboxOrder
	var body string
	var created, since, next int64
	var delivered sql.NullInt64
	err := sc.Scan(&o.ID, &o.CallID, &o.Seat, &o.Version, &o.Key, &body, &o.State, &o.Attempts,
		&created, &since, &next, &o.LastError, &o.OrderNo, &delivered)
	o.Body = json.RawMessage(body)
	o.CreatedAt, o.Since, o.NextAt = time.UnixMilli(created).UTC(), time.UnixMilli(since).UTC(), time.UnixMilli(next).UTC()
	o.DeliveredAt = fromMS(delivered)
	return o, err
}

// EnqueueOrder implements Outbox.
func (s *SQLite) EnqueueOrder(ctx context.Context, n NewOrder) (OutboxOrder, bool, error) {
	if n.CallID == "" || n.Build == nil || n.At.IsZero() {
		return OutboxOrder{}, false, errors.New("store: order needs a call, a builder and a time")
	}
	var o OutboxOrder
	existed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var version int
		var digest string
		err := tx.QueryRowContext(ctx, `SELECT version, digest FROM workorder_outbox WHERE call_id = ? ORDER BY version DESC LIMIT 1`,
			n.CallID).Scan(&version, &digest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && n.Digest != "" && digest == n.Digest {
			existed = true
			o, err = scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM workorder_outbox WHERE call_id = ? AND version = ?`, n.CallID, version))
			return err
		}
		key, body, err := n.Build(version + 1)
		if err != nil {
			return err
		}
		at := ms(n.At)
		res, err := tx.ExecContext(ctx, `INSERT INTO workorder_outbox(call_id, seat, version, key, digest, body, created_ms, since_ms, next_ms)
			VALUES (?,?,?,?,?,?,?,?,?)`, n.CallID, n.Seat, version+1, key, n.Digest, string(body), at, at, at)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		o, err = scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM workorder_outbox WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return OutboxOrder{}, false, fmt.Errorf("store: enqueue order: %w", err)
	}
	return o, existed, nil
}

// DueOrders implements Outbox.
func (s *SQLite) DueOrders(ctx context.Context, now time.Time, limit int) ([]OutboxOrder, error) {
	return s.orders(ctx, `WHERE state = 'pending' AND next_ms <= ? ORDER BY next_ms, id LIMIT ?`, ms(now), limit)
}

// Orders implements Outbox.
func (s *SQLite) Orders(ctx context.Context, f WorkOrderFilter) ([]OutboxOrder, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return s.orders(ctx, `WHERE (? = '' OR state = ?) AND (? = '' OR call_id = ?) ORDER BY id DESC LIMIT ?`,
		f.State, f.State, f.CallID, f.CallID, f.Limit)
}

func (s *SQLite) orders(ctx context.Context, where string, args ...any) ([]OutboxOrder, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+orderCols+` FROM workorder_outbox `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: orders: %w", err)
	}
	defer rows.Close()
	out := []OutboxOrder{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("store: orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OrderDelivered implements Outbox.
func (s *SQLite) OrderDelivered(ctx context.Context, id int64, orderNo string, at time.Time) error {
	return s.updateOrder(ctx, `UPDATE workorder_outbox SET state = 'delivered', order_no = ?, delivered_ms = ?, attempts = attempts + 1, last_error = ''
		WHERE id = ? AND state = 'pending'`, orderNo, ms(at), id)
}

// OrderRetry implements Outbox.
func (s *SQLite) OrderRetry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return s.updateOrder(ctx, `UPDATE workorder_outbox SET attempts = attempts + 1, next_ms = ?, last_error = ?
		WHERE id = ? AND state = 'pending'`, ms(next), lastErr, id)
}

// OrderDead implements Outbox.
func (s *SQLite) OrderDead(ctx context.Context, id int64, lastErr string, at time.Time) error {
	return s.updateOrder(ctx, `UPDATE workorder_outbox SET state = 'dead', attempts = attempts + 1, last_error = ?, next_ms = ?
		WHERE id = ? AND state = 'pending'`, lastErr, ms(at), id)
}

// RequeueOrder implements Outbox.
func (s *SQLite) RequeueOrder(ctx context.Context, id int64, at time.Time) (OutboxOrder, error) {
	if err := s.updateOrder(ctx, `UPDATE workorder_outbox SET state = 'pending', since_ms = ?, next_ms = ?
		WHERE id = ? AND state = 'dead'`, ms(at), ms(at), id); err != nil {
		return OutboxOrder{}, err
	}
	return scanOrder(s.r.QueryRowContext(ctx, `SELECT `+orderCols+` FROM workorder_outbox WHERE id = ?`, id))
}

// updateOrder runs one state change; ErrNotFound when the order is not in the state it
// needs (delivered already, or not dead).
func (s *SQLite) updateOrder(ctx context.Context, q string, args ...any) error {
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: order: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(ErrNotFound, err)
	}
	return nil
}

// Draft implements Outbox.
func (s *SQLite) Draft(ctx context.Context, callID string) (WorkOrderDraft, error) {
	d := WorkOrderDraft{CallID: callID}
	var data string
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT seat, data, at_ms FROM workorder_drafts WHERE call_id = ?`, callID).Scan(&d.Seat, &data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	d.Data, d.At = json.RawMessage(data), time.UnixMilli(at).UTC()
	return d, err
}

// writeDraft replaces a call's draft.
func writeDraft(ctx context.Context, tx *sql.Tx, d WorkOrderDraft) error {
	if d.CallID == "" || !json.Valid(d.Data) {
		return errors.New("draft without call id or with invalid data")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO workorder_drafts(call_id, seat, data, at_ms) VALUES (?,?,?,?)
		ON CONFLICT(call_id) DO UPDATE SET seat = excluded.seat, data = excluded.data, at_ms = excluded.at_ms`,
		d.CallID, d.Seat, string(d.Data), ms(d.At))
	return err
}
