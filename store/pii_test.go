package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func searchCalls(t *testing.T, s *SQLite, q string) []string {
	t.Helper()
	hits, err := s.SearchUtterances(context.Background(), SearchQuery{Text: q})
	require.NoError(t, err)
	calls := []string{}
	for _, h := range hits {
		calls = append(calls, h.CallID)
	}
	return calls
}

// The index holds redacted text: a caller is found by what they said, never by their
// phone, ID or card number; the stored utterance keeps the original for those allowed it.
func TestSearchIndexIsRedacted(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for i, text := range []string{
		"我手机号是幺三八零五八零幺二三四，路灯坏了",
		"身份证号330902198503120018，补贴没到",
		"住在3号楼1502室，电话13805801234",
	} {
		require.NoError(t, s.Write(ctx, Utterance{CallID: fmt.Sprint("c", i), Seat: "seat-01", Channel: "caller",
			UtteranceID: "u1", Text: text, At: t0.Add(time.Duration(i) * time.Second)}))
	}
	require.Equal(t, []string{"c0"}, searchCalls(t, s, "路灯坏了"))
	require.Equal(t, []string{"c2"}, searchCalls(t, s, "1502室"), "ordinary numbers stay searchable")
	for _, q := range []string{"13805801234", "0580", "幺三八", "330902", "0018", "12", "幺二"} {
		require.Empty(t, searchCalls(t, s, q), "personal number %q is not in the index", q)
	}
	hits, err := s.SearchUtterances(ctx, SearchQuery{Text: "路灯"})
	require.NoError(t, err)
	require.Equal(t, "我手机号是幺三八零五八零幺二三四，路灯坏了", hits[0].Text, "the row keeps the original")

	// A corrected final replaces the indexed text too.
	require.NoError(t, s.Write(ctx, Utterance{CallID: "c0", Seat: "seat-01", Channel: "caller", UtteranceID: "u1",
		Text: "卡号6222021234567890128，路灯修好了", At: t0}))
	require.Equal(t, []string{"c0"}, searchCalls(t, s, "路灯修好"))
	require.Empty(t, searchCalls(t, s, "路灯坏了"))
	require.Empty(t, searchCalls(t, s, "62220212"))
}

// legacySchema is the utterances table and index of the versions before redaction.
const legacySchema = `
CREATE TABLE utterances (
	id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, seat TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL,
	utterance_id TEXT NOT NULL, text TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
	confidence REAL NOT NULL, at_ms INTEGER NOT NULL, UNIQUE (call_id, channel, utterance_id));
CREATE VIRTUAL TABLE utterances_fts USING fts5(text, content='utterances', content_rowid='id', tokenize='trigram');
CREATE TRIGGER utterances_ai AFTER INSERT ON utterances BEGIN
	INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER utterances_ad AFTER DELETE ON utterances BEGIN
	INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER utterances_au AFTER UPDATE ON utterances BEGIN
	INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text);
	INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text);
END;`

// A database written by an earlier version, its index full of phone numbers, is migrated on
// open: the old index is gone, the old rows are searchable redacted, and opening again
// changes nothing.
func TestMigrateLegacyIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(legacySchema)
	require.NoError(t, err)
	for i := 0; i < backfillBatch+5; i++ { // more than one batch
		_, err = db.Exec(`INSERT INTO utterances(call_id, channel, utterance_id, text, start_ms, end_ms, confidence, at_ms)
			VALUES (?, 'caller', 'u', ?, 0, 0, 1, ?)`, fmt.Sprint("old", i), fmt.Sprintf("第%d个来电，电话13805801234，路灯不亮", i), i)
		require.NoError(t, err)
	}
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH '"13805801234"'`).Scan(&n))
	require.Equal(t, backfillBatch+5, n, "the old index holds the number")
	require.NoError(t, db.Close())

	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		require.NoError(t, err)
		require.Len(t, searchCalls(t, s, "路灯不亮"), 50, "old rows are searchable (first page)")
		require.Empty(t, searchCalls(t, s, "13805801234"))
		var legacy, blank int
		require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'utterances_a%' OR name = 'utterances_fts'`).Scan(&legacy))
		require.Zero(t, legacy, "the unredacted index and its triggers are dropped")
		require.NoError(t, s.r.QueryRow(`SELECT count(*) FROM utterances WHERE text_redacted NOT LIKE '%***********%'`).Scan(&blank))
		require.Zero(t, blank, "every old row is redacted, past the first batch too")
		require.NoError(t, s.Close())
	}
}

func TestAuditLog(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	_, err := s.Audit(ctx, AuditEntry{Action: AuditReveal, At: t0})
	require.Error(t, err, "an entry without a user is refused")
	for i, e := range []AuditEntry{
		{User: "admin", Action: AuditReveal, CallID: "c1", Detail: "3 utterances", Remote: "127.0.0.1"},
		{User: "seat-01", Action: AuditRecording, CallID: "c1"},
		{User: "admin", Action: AuditRecording, CallID: "c2"},
	} {
		e.At = t0.Add(time.Duration(i) * time.Minute)
		got, err := s.Audit(ctx, e)
		require.NoError(t, err)
		require.Positive(t, got.ID)
	}
	all, err := s.AuditLog(ctx, AuditFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, "c2", all[0].CallID, "newest first")
	require.Equal(t, AuditEntry{ID: all[2].ID, At: t0, User: "admin", Action: AuditReveal, CallID: "c1",
		Detail: "3 utterances", Remote: "127.0.0.1"}, all[2])

	c1, err := s.AuditLog(ctx, AuditFilter{CallID: "c1"})
	require.NoError(t, err)
	require.Len(t, c1, 2)
	rec, err := s.AuditLog(ctx, AuditFilter{Action: AuditRecording, User: "admin"})
	require.NoError(t, err)
	require.Len(t, rec, 1)
	window, err := s.AuditLog(ctx, AuditFilter{From: t0.Add(time.Minute), To: t0.Add(2 * time.Minute)})
	require.NoError(t, err)
	require.Len(t, window, 1)
	require.Equal(t, "seat-01", window[0].User)

	_, err = s.w.Exec(`UPDATE audit_log SET user = 'nobody'`)
	require.ErrorContains(t, err, "append-only")
	_, err = s.w.Exec(`DELETE FROM audit_log`)
	require.ErrorContains(t, err, "append-only")
}
