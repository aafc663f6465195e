package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// seatSettingsSchema keeps what a seat chose for itself, so that it follows the agent from
// one browser or desk to the next instead of living in one browser's storage.
const seatSettingsSchema = `
CREATE TABLE IF NOT EXISTS seat_settings (
	seat        TEXT PRIMARY KEY,
	auto_answer INTEGER NOT NULL DEFAULT 0,
	updated_ms  INTEGER NOT NULL
);
`

// SeatSettings are a seat's own preferences.
type SeatSettings struct {
	// AutoAnswer answers an offered call at once in the seat's browser phone (headsets).
	AutoAnswer bool `json:"auto_answer"`
}

// SeatSettings returns a seat's settings; a seat that never saved any gets the zero value.
func (s *SQLite) SeatSettings(ctx context.Context, seat string) (SeatSettings, error) {
	var out SeatSettings
	err := s.r.QueryRowContext(ctx, `SELECT auto_answer FROM seat_settings WHERE seat = ?`, seat).Scan(&out.AutoAnswer)
	if errors.Is(err, sql.ErrNoRows) {
		return SeatSettings{}, nil
	}
	if err != nil {
		return SeatSettings{}, fmt.Errorf("store: seat settings: %w", err)
	}
	return out, nil
}

// SaveSeatSettings replaces a seat's settings.
func (s *SQLite) SaveSeatSettings(ctx context.Context, seat string, v SeatSettings, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO seat_settings(seat, auto_answer, updated_ms) VALUES (?,?,?)
		ON CONFLICT(seat) DO UPDATE SET auto_answer = excluded.auto_answer, updated_ms = excluded.updated_ms`,
		seat, v.AutoAnswer, ms(at))
	if err != nil {
		return fmt.Errorf("store: save seat settings: %w", err)
	}
	return nil
}
