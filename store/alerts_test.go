package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// alertRow is one change of an alert as the desk writes it.
func alertRow(t *testing.T, id, state string, count int, at, until time.Time) Alert {
	t.Helper()
	data, err := json.Marshal(map[string]any{"id": id, "state": state, "issue": "电梯故障", "place": "阳光花园3号楼", "count": count})
	require.NoError(t, err)
	return Alert{ID: id, State: state, Until: until, Department: "market-regulation", Count: count, Data: data, At: at}
}

// The alerts open at a time are the latest change of each alert that is neither closed
// nor expired and whose window has not passed; every alert's id is known, to go on from.
func TestOpenAlerts(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	h := time.Hour
	require.NoError(t, s.Write(ctx,
		alertRow(t, "hotspot-1", "raised", 3, t0, t0.Add(h)),
		alertRow(t, "hotspot-1", "grown", 4, t0.Add(30*time.Minute), t0.Add(90*time.Minute)),
		alertRow(t, "hotspot-1", "acknowledged", 4, t0.Add(40*time.Minute), t0.Add(90*time.Minute)),
		alertRow(t, "hotspot-2", "raised", 3, t0, t0.Add(h)),
		alertRow(t, "hotspot-2", "closed", 3, t0.Add(10*time.Minute), t0.Add(h)),
		alertRow(t, "hotspot-3", "raised", 3, t0.Add(-2*h), t0.Add(-h)), // its window passed
		alertRow(t, "hotspot-4", "raised", 5, t0.Add(50*time.Minute), t0.Add(110*time.Minute)),
		Alert{Topic: "装修噪音", Count: 9, At: t0}, // no id: no life cycle to follow
	))
	got, err := s.OpenAlerts(ctx, t0.Add(60*time.Minute))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "hotspot-1", got[0].ID)
	require.Equal(t, "acknowledged", got[0].State)
	require.Equal(t, 4, got[0].Count)
	require.Equal(t, t0.Add(40*time.Minute), got[0].At)
	require.Equal(t, t0.Add(90*time.Minute), got[0].Until)
	require.JSONEq(t, string(alertRow(t, "hotspot-1", "acknowledged", 4, t0, t0).Data), string(got[0].Data))
	require.Equal(t, "hotspot-4", got[1].ID)

	got, err = s.OpenAlerts(ctx, t0.Add(100*time.Minute))
	require.NoError(t, err)
	require.Len(t, got, 1, "hotspot-1's window passed")
	require.Equal(t, "hotspot-4", got[0].ID)

	ids, err := s.AlertIDs(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"hotspot-1", "hotspot-2", "hotspot-3", "hotspot-4"}, ids)

	// the same after a reopen
	require.NoError(t, s.Close())
	s2, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s2.Close()
	got, err = s2.OpenAlerts(ctx, t0.Add(100*time.Minute))
	require.NoError(t, err)
	require.Len(t, got, 1)
}

// A database made before alerts said their id, state and window in columns gets them at
// open, read from each row's payload, so that the alerts open when it stopped are found.
func TestAlertColumnsAreAddedToAnOldDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE alerts (id INTEGER PRIMARY KEY, department TEXT NOT NULL DEFAULT '',
		topic TEXT NOT NULL DEFAULT '', count INTEGER NOT NULL, data TEXT NOT NULL DEFAULT 'null', at_ms INTEGER NOT NULL);
		INSERT INTO alerts(department, count, data, at_ms) VALUES
		('market-regulation', 3, '{"id":"hotspot-1","state":"raised","count":3,"window_s":3600}', ?),
		('market-regulation', 4, '{"id":"hotspot-1","state":"grown","count":4,"window_s":3600}', ?),
		('water-supply', 3, '{"id":"hotspot-2","state":"raised","count":3,"window_s":3600}', ?),
		('env', 9, 'null', ?),
		('env', 9, 'not json', ?);`,
		t0.UnixMilli(), t0.Add(30*time.Minute).UnixMilli(), t0.Add(-2*time.Hour).UnixMilli(), t0.UnixMilli(), t0.UnixMilli())
	require.NoError(t, err)
	require.NoError(t, db.Close())

	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		require.NoError(t, err)
		got, err := s.OpenAlerts(context.Background(), t0.Add(time.Hour))
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "hotspot-1", got[0].ID)
		require.Equal(t, "grown", got[0].State)
		require.Equal(t, t0.Add(90*time.Minute), got[0].Until, "a window after its last change")
		require.NoError(t, s.Close())
	}
}
