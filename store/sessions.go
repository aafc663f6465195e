package store

import (
	"context"
	"fmt"
	"time"
)

// SaveSession implements Store.
func (s *SQLite) SaveSession(ctx context.Context, r SessionRecord) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions(id, user, role, seat, expires_ms) VALUES (?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET expires_ms = excluded.expires_ms`, r.ID, r.User, r.Role, r.Seat, ms(r.Expires))
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	return nil
}

// DeleteSession implements Store.
func (s *SQLite) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Sessions implements Store.
func (s *SQLite) Sessions(ctx context.Context, now time.Time) ([]SessionRecord, error) {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ms <= ?`, ms(now)); err != nil {
		return nil, fmt.Errorf("store: expire sessions: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, user, role, seat, expires_ms FROM sessions ORDER BY expires_ms`)
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	defer rows.Close()
	var out []SessionRecord
	for rows.Next() {
		var r SessionRecord
		var exp int64
		if err := rows.Scan(&r.ID, &r.User, &r.Role, &r.Seat, &exp); err != nil {
			return nil, fmt.Errorf("store: sessions: %w", err)
		}
		r.Expires = time.UnixMilli(exp).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
