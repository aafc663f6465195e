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

func TestLegQualityRoundTrips(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	end := t0.Add(time.Minute)
	peerLost, peerLoss, peerJitter, rtt := uint64(3), 0.001, 2.5, 41.2
	caller := Leg{CallID: "c1", Leg: "caller", Codec: "PCMU", StartedAt: t0, EndedAt: &end,
		Quality: &LegQuality{PacketsLost: 300, Loss: 0.1, JitterMS: 4.5, MOS: 3.38}}
	agent := Leg{CallID: "c1", Leg: "agent", Codec: "PCMU", StartedAt: t0, EndedAt: &end,
		Quality: &LegQuality{JitterMS: 0.2, PeerPacketsLost: &peerLost, PeerLoss: &peerLoss,
			PeerJitterMS: &peerJitter, RTTMS: &rtt, MOS: 4.39}}
	require.NoError(t, s.Write(ctx, Call{ID: "c1", OfferedAt: t0}, caller, agent,
		Leg{CallID: "c2", Leg: "caller", StartedAt: t0}))

	d, err := s.Call(ctx, "c1")
	require.NoError(t, err)
	byLeg := map[string]Leg{}
	for _, l := range d.Legs {
		byLeg[l.Leg] = l
	}
	require.Equal(t, *caller.Quality, *byLeg["caller"].Quality)
	require.Nil(t, byLeg["caller"].Quality.RTTMS, "no round trip without the peer's reports")
	require.Equal(t, *agent.Quality, *byLeg["agent"].Quality)

	b, err := json.Marshal(byLeg["agent"])
	require.NoError(t, err)
	require.Contains(t, string(b), `"quality":{"packets_lost":0,"loss":0,"jitter_ms":0.2,"peer_packets_lost":3,"peer_loss":0.001,"peer_jitter_ms":2.5,"rtt_ms":41.2,"mos":4.39}`)

	require.NoError(t, s.Write(ctx, Call{ID: "c2", OfferedAt: t0}))
	d, err = s.Call(ctx, "c2")
	require.NoError(t, err)
	require.Nil(t, d.Legs[0].Quality, "a leg written without quality has none")
}

func TestLegQualityColumnsAreAddedToAnOldDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE legs (call_id TEXT NOT NULL, leg TEXT NOT NULL, peer TEXT NOT NULL DEFAULT '',
		codec TEXT NOT NULL DEFAULT '', started_ms INTEGER NOT NULL, ended_ms INTEGER, PRIMARY KEY (call_id, leg));
		CREATE TABLE calls (id TEXT PRIMARY KEY, from_uri TEXT NOT NULL DEFAULT '', to_uri TEXT NOT NULL DEFAULT '',
		queue TEXT NOT NULL DEFAULT '', seat TEXT NOT NULL DEFAULT '', offered_ms INTEGER NOT NULL, answered_ms INTEGER,
		ended_ms INTEGER, end_reason TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '');
		INSERT INTO calls(id, offered_ms) VALUES ('old', 0);
		INSERT INTO legs(call_id, leg, started_ms) VALUES ('old', 'caller', 0);`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		require.NoError(t, err)
		d, err := s.Call(context.Background(), "old")
		require.NoError(t, err)
		require.Equal(t, "caller", d.Legs[0].Leg)
		require.Nil(t, d.Legs[0].Quality, "an old leg has no quality")
		require.NoError(t, s.Write(context.Background(), Leg{CallID: "old", Leg: "agent", StartedAt: t0,
			Quality: &LegQuality{MOS: 4.4}}))
		require.NoError(t, s.Close())
	}
}
