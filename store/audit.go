package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Audit actions: what an entry of the audit log records.
const (
	// AuditReveal is an admin reading a transcript unredacted (permission pii:reveal).
	AuditReveal = "pii:reveal"
	// AuditRecording is anyone downloading a call's recording.
	AuditRecording = "recording:download"
)

// auditSchema is the audit log. Triggers make it append-only: no entry is changed or removed
// through the gateway's own connection, whatever a later bug does.
const auditSchema = `
CREATE TABLE IF NOT EXISTS audit_log (
	id      INTEGER PRIMARY KEY,
	at_ms   INTEGER NOT NULL,
	user    TEXT NOT NULL,
	action  TEXT NOT NULL,
	call_id TEXT NOT NULL DEFAULT '',
	detail  TEXT NOT NULL DEFAULT '',
	remote  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at_ms);
CREATE INDEX IF NOT EXISTS audit_log_call ON audit_log(call_id, at_ms);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
`

// AuditEntry is one line of the audit log: who did what to which call, when, from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	CallID string    `json:"call_id,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"` // the client's address
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	CallID string
	User   string
	Action string
	From   time.Time // at or after
	To     time.Time // before
	Limit  int       // 0: 100
}

// Auditor keeps the audit log. A store that holds personal data implements it; the desk
// refuses reveals and downloads on a store that does not, rather than leave them unrecorded.
type Auditor interface {
	// Audit appends e (ID assigned; a zero At is refused) and returns it.
	Audit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditLog lists entries matching f, newest first.
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

var _ Auditor = (*SQLite)(nil)

// Audit implements Auditor.
func (s *SQLite) Audit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.User == "" || e.Action == "" || e.At.IsZero() {
		return e, errors.New("store: audit entry needs a user, an action and a time")
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_log(at_ms, user, action, call_id, detail, remote)
			VALUES (?,?,?,?,?,?)`, ms(e.At), e.User, e.Action, e.CallID, e.Detail, e.Remote)
		if err != nil {
			return fmt.Errorf("store: audit: %w", err)
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	return e, err
}

// AuditLog implements Auditor.
func (s *SQLite) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where, args := `WHERE 1=1`, []any{}
	for _, c := range []struct{ col, v string }{{"call_id", f.CallID}, {"user", f.User}, {"action", f.Action}} {
		if c.v != "" {
			where += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if !f.From.IsZero() {
		where += ` AND at_ms >= ?`
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND at_ms < ?`
		args = append(args, ms(f.To))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at_ms, user, action, call_id, detail, remote FROM audit_log `+
		where+` ORDER BY at_ms DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.CallID, &e.Detail, &e.Remote); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
