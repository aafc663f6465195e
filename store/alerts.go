package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Hotspot alerts: one row per change of an alert (raised, grown, acknowledged, closed,
// expired), its payload as the screens saw it. alert_id, state and until_ms say which
// alert a row is and whether it is still open, so that a restart can take up the alerts
// that were open when it stopped.

// writeAlert stores one change of an alert.
func writeAlert(ctx context.Context, tx *sql.Tx, r Alert) error {
	data := string(r.Data)
	if data == "" {
		data = "null"
	}
	var until any
	if !r.Until.IsZero() {
		until = ms(r.Until)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO alerts(department, topic, count, data, at_ms, alert_id, state, until_ms)
		VALUES (?,?,?,?,?,?,?,?)`, r.Department, r.Topic, r.Count, data, ms(r.At), r.ID, r.State, until)
	return err
}

// migrateAlerts gives a database made before them the alerts' alert_id, state and until_ms
// columns, filled in from each row's payload: an old row's alert lapses its window after
// the row (exact for a raise or a new call, late for an acknowledgement).
func migrateAlerts(ctx context.Context, db *sql.DB) error {
	var done int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('alerts') WHERE name = 'until_ms'`).Scan(&done); err != nil {
		return err
	}
	if done == 0 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		for _, stmt := range []string{
			`ALTER TABLE alerts ADD COLUMN alert_id TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE alerts ADD COLUMN until_ms INTEGER`,
			`UPDATE alerts SET alert_id = COALESCE(json_extract(data, '$.id'), ''),
				state = COALESCE(json_extract(data, '$.state'), ''),
				until_ms = CASE WHEN json_extract(data, '$.window_s') > 0
					THEN at_ms + 1000 * json_extract(data, '$.window_s') END
				WHERE json_valid(data) AND json_type(data) = 'object'`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("alerts: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err := db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS alerts_alert ON alerts(alert_id, id)`)
	return err
}

// OpenAlerts implements Store.
func (s *SQLite) OpenAlerts(ctx context.Context, now time.Time) ([]Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT alert_id, state, department, topic, count, data, at_ms, until_ms
		FROM alerts WHERE id IN (SELECT MAX(id) FROM alerts WHERE alert_id != '' GROUP BY alert_id)
		AND state NOT IN ('closed', 'expired') AND until_ms > ? ORDER BY id`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: open alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var data string
		var at, until int64
		if err := rows.Scan(&a.ID, &a.State, &a.Department, &a.Topic, &a.Count, &data, &at, &until); err != nil {
			return nil, fmt.Errorf("store: open alerts: %w", err)
		}
		a.Data, a.At, a.Until = []byte(data), time.UnixMilli(at).UTC(), time.UnixMilli(until).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertIDs are the ids of every alert stored, so that a detector that starts again gives
// its new alerts ids no earlier alert had.
func (s *SQLite) AlertIDs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT alert_id FROM alerts WHERE alert_id != ''`)
	if err != nil {
		return nil, fmt.Errorf("store: alert ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: alert ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
