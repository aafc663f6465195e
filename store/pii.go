package store

import (
	"context"
	"database/sql"
	"fmt"

	"lianxin/redact"
)

// The full-text index holds redacted text only. utterances.text keeps what was said (the
// call's own agent reads it during the call; an admin with pii:reveal reads it, audited);
// utterances.text_redacted is the same text with personal numbers masked, and both the FTS5
// index and short-term substring search read that column, so a search by a phone or ID
// number finds nothing and the index never holds one.
const redactedIndexSchema = `
CREATE VIRTUAL TABLE utterances_rfts USING fts5(
	text_redacted, content='utterances', content_rowid='id', tokenize='trigram');
CREATE TRIGGER utterances_rai AFTER INSERT ON utterances BEGIN
	INSERT INTO utterances_rfts(rowid, text_redacted) VALUES (new.id, new.text_redacted);
END;
CREATE TRIGGER utterances_rad AFTER DELETE ON utterances BEGIN
	INSERT INTO utterances_rfts(utterances_rfts, rowid, text_redacted) VALUES ('delete', old.id, old.text_redacted);
END;
CREATE TRIGGER utterances_rau AFTER UPDATE ON utterances BEGIN
	INSERT INTO utterances_rfts(utterances_rfts, rowid, text_redacted) VALUES ('delete', old.id, old.text_redacted);
	INSERT INTO utterances_rfts(rowid, text_redacted) VALUES (new.id, new.text_redacted);
END;
INSERT INTO utterances_rfts(utterances_rfts) VALUES ('rebuild');
`

// legacyIndex is the index of earlier versions, over the original text: dropped, with its
// triggers, on the first start of this one.
const legacyIndex = `
DROP TRIGGER IF EXISTS utterances_ai;
DROP TRIGGER IF EXISTS utterances_ad;
DROP TRIGGER IF EXISTS utterances_au;
DROP TABLE IF EXISTS utterances_fts;
`

// redactedText is what the index and search see of an utterance.
func redactedText(text string) string {
	masked, _ := redact.Redact(text)
	return masked
}

// migrateRedactedIndex brings a database of any earlier version to the redacted index, in one
// transaction: it adds text_redacted, fills it for rows stored before, drops the index over
// the original text and builds the redacted one. On a current database it changes nothing.
func migrateRedactedIndex(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var done int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'utterances_rfts'`).Scan(&done)
	if err != nil || done > 0 {
		return err
	}
	var hasColumn int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('utterances')
		WHERE name = 'text_redacted'`).Scan(&hasColumn); err != nil {
		return err
	}
	if hasColumn == 0 {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE utterances ADD COLUMN text_redacted TEXT NOT NULL DEFAULT ''`); err != nil {
			return fmt.Errorf("add text_redacted: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, legacyIndex); err != nil {
		return fmt.Errorf("drop the unredacted index: %w", err)
	}
	if err := backfillRedacted(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, redactedIndexSchema); err != nil {
		return fmt.Errorf("redacted index: %w", err)
	}
	return tx.Commit()
}

// backfillBatch is how many utterances backfillRedacted reads at a time: a year of calls is
// tens of millions of rows, never all in memory.
const backfillBatch = 1000

// backfillRedacted fills text_redacted for utterances stored before the column existed.
func backfillRedacted(ctx context.Context, tx *sql.Tx) error {
	type pending struct {
		id   int64
		text string
	}
	for after := int64(-1); ; {
		rows, err := tx.QueryContext(ctx, `SELECT id, text FROM utterances
			WHERE id > ? AND text_redacted = '' AND text != '' ORDER BY id LIMIT ?`, after, backfillBatch)
		if err != nil {
			return err
		}
		var todo []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.id, &p.text); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(todo) == 0 {
			return nil
		}
		for _, p := range todo {
			if _, err := tx.ExecContext(ctx, `UPDATE utterances SET text_redacted = ? WHERE id = ?`,
				redactedText(p.text), p.id); err != nil {
				return fmt.Errorf("redact utterance %d: %w", p.id, err)
			}
		}
		after = todo[len(todo)-1].id
	}
}
