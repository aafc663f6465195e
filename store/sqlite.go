package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLite is the default Store: one writer connection (SQLite allows one writer; a single
// connection makes writers queue in Go instead of failing with SQLITE_BUSY) and a pool of
// readers on a WAL database.
type SQLite struct {
	path string
	w    *sql.DB
	r    *sql.DB
}

var _ Store = (*SQLite)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS events (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	type    TEXT    NOT NULL,
	time_ns INTEGER NOT NULL,
	call_id TEXT    NOT NULL DEFAULT '',
	seat    TEXT    NOT NULL DEFAULT '',
	data    TEXT    NOT NULL DEFAULT 'null'
);
CREATE INDEX IF NOT EXISTS events_seat ON events(seat, seq);
CREATE INDEX IF NOT EXISTS events_call ON events(call_id, seq);
CREATE TABLE IF NOT EXISTS calls (
	id          TEXT PRIMARY KEY,
	from_uri    TEXT NOT NULL DEFAULT '',
	to_uri      TEXT NOT NULL DEFAULT '',
	queue       TEXT NOT NULL DEFAULT '',
	seat        TEXT NOT NULL DEFAULT '',
	offered_ms  INTEGER NOT NULL,
	answered_ms INTEGER,
	ended_ms    INTEGER,
	end_reason  TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS calls_offered ON calls(offered_ms);
CREATE INDEX IF NOT EXISTS calls_seat ON calls(seat, offered_ms);
CREATE TABLE IF NOT EXISTS sessions (
	id         TEXT PRIMARY KEY,
	user       TEXT NOT NULL,
	role       TEXT NOT NULL,
	seat       TEXT NOT NULL DEFAULT '',
	expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS legs (
	call_id    TEXT NOT NULL,
	leg        TEXT NOT NULL,
	peer       TEXT NOT NULL DEFAULT '',
	codec      TEXT NOT NULL DEFAULT '',
	started_ms INTEGER NOT NULL,
	ended_ms   INTEGER,
	PRIMARY KEY (call_id, leg)
);
CREATE TABLE IF NOT EXISTS seat_states (
	id    INTEGER PRIMARY KEY,
	seat  TEXT NOT NULL,
	state TEXT NOT NULL,
	at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS seat_states_seat ON seat_states(seat, at_ms);
CREATE TABLE IF NOT EXISTS utterances (
	id           INTEGER PRIMARY KEY,
	call_id      TEXT NOT NULL,
	seat         TEXT NOT NULL DEFAULT '',
	channel      TEXT NOT NULL,
	utterance_id TEXT NOT NULL,
	text         TEXT NOT NULL,
	start_ms     INTEGER NOT NULL,
	end_ms       INTEGER NOT NULL,
	confidence   REAL NOT NULL,
	at_ms        INTEGER NOT NULL,
	UNIQUE (call_id, channel, utterance_id)
);
CREATE INDEX IF NOT EXISTS utterances_call ON utterances(call_id, start_ms);
CREATE TABLE IF NOT EXISTS suggestions (
	id          INTEGER PRIMARY KEY,
	call_id     TEXT NOT NULL,
	seat        TEXT NOT NULL DEFAULT '',
	departments TEXT NOT NULL,
	at_ms       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS suggestions_call ON suggestions(call_id, id);
CREATE TABLE IF NOT EXISTS decisions (
	id         INTEGER PRIMARY KEY,
	call_id    TEXT NOT NULL,
	seat       TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL,
	suggested  TEXT NOT NULL DEFAULT '',
	accepted   INTEGER NOT NULL,
	at_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_call ON decisions(call_id, id);
CREATE TABLE IF NOT EXISTS alerts (
	id         INTEGER PRIMARY KEY,
	department TEXT NOT NULL DEFAULT '',
	topic      TEXT NOT NULL DEFAULT '',
	count      INTEGER NOT NULL,
	data       TEXT NOT NULL DEFAULT 'null',
	at_ms      INTEGER NOT NULL
);
`

// OpenSQLite opens (creating if needed) the database file at path and applies the schema.
// The file, its WAL and shared-memory files are made readable by the owner only (0600) and a
// missing folder is created 0700: the database holds what citizens told the hotline.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if _, err := w.ExecContext(ctx, schema+auditSchema+workOrderSchema+urgentSchema+seatSettingsSchema); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: schema %s: %w", path, err)
	}
	if err := migrateRedactedIndex(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: schema %s: %w", path, err)
	}
	if err := addColumn(ctx, w, "calls", "survey", "TEXT NOT NULL DEFAULT ''"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: schema %s: %w", path, err)
	}
	if err := migrateLegQuality(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: schema %s: %w", path, err)
	}
	if err := migrateAlerts(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: schema %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	return &SQLite{path: path, w: w, r: r}, nil
}

// makePrivate creates path's folder (0700) and the database file (0600) when missing, so that
// SQLite, which gives its WAL and shared-memory files the database file's mode, never writes
// a world-readable byte; files an older version left readable are restricted too.
func makePrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// addColumn adds a column that a database made by an earlier version lacks (CREATE TABLE
// IF NOT EXISTS leaves an old table as it was).
func addColumn(ctx context.Context, db *sql.DB, table, column, decl string) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN "+column+" "+decl); err != nil {
		return fmt.Errorf("add %s.%s: %w", table, column, err)
	}
	return nil
}

// String names the store for logs.
func (s *SQLite) String() string { return "sqlite:" + s.path }

// Close closes both connection pools; it is safe to call twice.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Append implements Store.
func (s *SQLite) Append(ctx context.Context, ev Event, rows ...Row) (Event, error) {
	if ev.Type == "" {
		return ev, errors.New("store: event without type")
	}
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("null")
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO events(type, time_ns, call_id, seat, data) VALUES (?,?,?,?,?)`,
			ev.Type, ev.Time.UnixNano(), ev.CallID, ev.Seat, string(ev.Data))
		if err != nil {
			return fmt.Errorf("store: append %s: %w", ev.Type, err)
		}
		if ev.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
		return writeRows(ctx, tx, rows)
	})
	if err != nil {
		return ev, err
	}
	return ev, nil
}

// Write implements Store.
func (s *SQLite) Write(ctx context.Context, rows ...Row) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return writeRows(ctx, tx, rows) })
}

func (s *SQLite) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func writeRows(ctx context.Context, tx *sql.Tx, rows []Row) error {
	for _, r := range rows {
		if err := writeRow(ctx, tx, r); err != nil {
			return fmt.Errorf("store: write %T: %w", r, err)
		}
	}
	return nil
}

func writeRow(ctx context.Context, tx *sql.Tx, r Row) error {
	var err error
	switch r := r.(type) {
	case Call:
		if r.ID == "" {
			return errors.New("call without id")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO calls(id, from_uri, to_uri, queue, seat, offered_ms)
			VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET
			from_uri=excluded.from_uri, to_uri=excluded.to_uri, queue=excluded.queue, seat=excluded.seat`,
			r.ID, r.From, r.To, r.Queue, r.Seat, ms(r.OfferedAt))
	case CallAnswered:
		// a call nobody reported offered is still counted: offered when answered
		err = expectOne(tx.ExecContext(ctx, `INSERT INTO calls(id, seat, offered_ms, answered_ms, outcome)
			VALUES (?,?,?,?,'answered') ON CONFLICT(id) DO UPDATE SET answered_ms=excluded.answered_ms,
			seat=excluded.seat, outcome='answered' WHERE calls.answered_ms IS NULL`,
			r.CallID, r.Seat, ms(r.At), ms(r.At)))
	case CallEnded:
		outcome := "abandoned"
		if r.Failed {
			outcome = "failed"
		}
		// a caller who hangs up in the queue, before any seat rang, may have no call row yet
		err = expectOne(tx.ExecContext(ctx, `INSERT INTO calls(id, offered_ms, ended_ms, end_reason, outcome, survey)
			VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET ended_ms=excluded.ended_ms,
			end_reason=excluded.end_reason, survey=excluded.survey,
			outcome=CASE WHEN calls.answered_ms IS NULL THEN excluded.outcome ELSE 'answered' END
			WHERE calls.ended_ms IS NULL`, r.CallID, ms(r.At), ms(r.At), r.Reason, outcome, r.Survey))
	case Leg:
		err = writeLeg(ctx, tx, r)
	case SeatState:
		_, err = tx.ExecContext(ctx, `INSERT INTO seat_states(seat, state, at_ms) VALUES (?,?,?)`,
			r.Seat, r.State, ms(r.At))
	case Utterance:
		_, err = tx.ExecContext(ctx, `INSERT INTO utterances(call_id, seat, channel, utterance_id, text,
			text_redacted, start_ms, end_ms, confidence, at_ms) VALUES (?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(call_id, channel, utterance_id) DO UPDATE SET text=excluded.text,
			text_redacted=excluded.text_redacted,
			start_ms=excluded.start_ms, end_ms=excluded.end_ms, confidence=excluded.confidence`,
			r.CallID, r.Seat, r.Channel, r.UtteranceID, r.Text, redactedText(r.Text), r.StartMS, r.EndMS, r.Confidence, ms(r.At))
	case Suggestion:
		var b []byte
		if b, err = json.Marshal(r.Departments); err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO suggestions(call_id, seat, departments, at_ms)
				VALUES (?,?,?,?)`, r.CallID, r.Seat, string(b), ms(r.At))
		}
	case Decision:
		_, err = tx.ExecContext(ctx, `INSERT INTO decisions(call_id, seat, department, suggested, accepted, at_ms)
			VALUES (?,?,?,?,?,?)`, r.CallID, r.Seat, r.Department, r.Suggested, r.Accepted, ms(r.At))
	case Alert:
		err = writeAlert(ctx, tx, r)
	case WorkOrderDraft:
		err = writeDraft(ctx, tx, r)
	default:
		err = fmt.Errorf("unknown row type %T", r)
	}
	return err
}

// expectOne turns an upsert that changed no row into ErrNotFound, so that answering a call
// twice or ending it twice is reported rather than silently ignored.
func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("call already answered or ended: %w", ErrNotFound)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}
