package store

import (
	"context"
	"database/sql"
	"fmt"
)

// LegQuality is a leg's audio quality over its call: what the gateway measured of the
// stream it received, what the peer's RTCP reports said of the stream the gateway sent
// (absent when the peer sent none), the round trip, and the E-model MOS.
type LegQuality struct {
	// PacketsLost and Loss (0–1) are the peer's packets that never reached the gateway;
	// JitterMS their interarrival jitter.
	PacketsLost uint64  `json:"packets_lost"`
	Loss        float64 `json:"loss"`
	JitterMS    float64 `json:"jitter_ms"`
	// The peer's view of the gateway's packets, from its RTCP receiver reports.
	PeerPacketsLost *uint64  `json:"peer_packets_lost,omitempty"`
	PeerLoss        *float64 `json:"peer_loss,omitempty"`
	PeerJitterMS    *float64 `json:"peer_jitter_ms,omitempty"`
	// RTTMS is the round trip from the peer's reports, absent when never measured.
	RTTMS *float64 `json:"rtt_ms,omitempty"`
	// MOS is the ITU-T G.107 E-model estimate (1–4.5).
	MOS float64 `json:"mos"`
}

// legQualityColumns are the legs table's quality columns, added to databases made before
// them; a leg without quality has them NULL.
var legQualityColumns = []struct{ name, decl string }{
	{"packets_lost", "INTEGER"}, {"loss", "REAL"}, {"jitter_ms", "REAL"},
	{"peer_packets_lost", "INTEGER"}, {"peer_loss", "REAL"}, {"peer_jitter_ms", "REAL"},
	{"rtt_ms", "REAL"}, {"mos", "REAL"},
}

func migrateLegQuality(ctx context.Context, db *sql.DB) error {
	for _, c := range legQualityColumns {
		if err := addColumn(ctx, db, "legs", c.name, c.decl); err != nil {
			return err
		}
	}
	return nil
}

func writeLeg(ctx context.Context, tx *sql.Tx, r Leg) error {
	var q [8]any
	if l := r.Quality; l != nil {
		q = [8]any{int64(l.PacketsLost), l.Loss, l.JitterMS, u64Ptr(l.PeerPacketsLost), l.PeerLoss, l.PeerJitterMS, l.RTTMS, l.MOS}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO legs(call_id, leg, peer, codec, started_ms, ended_ms,
		packets_lost, loss, jitter_ms, peer_packets_lost, peer_loss, peer_jitter_ms, rtt_ms, mos)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(call_id, leg) DO UPDATE SET
		peer=excluded.peer, codec=excluded.codec, ended_ms=excluded.ended_ms,
		packets_lost=excluded.packets_lost, loss=excluded.loss, jitter_ms=excluded.jitter_ms,
		peer_packets_lost=excluded.peer_packets_lost, peer_loss=excluded.peer_loss,
		peer_jitter_ms=excluded.peer_jitter_ms, rtt_ms=excluded.rtt_ms, mos=excluded.mos`,
		append([]any{r.CallID, r.Leg, r.Peer, r.Codec, ms(r.StartedAt), msPtr(r.EndedAt)}, q[:]...)...)
	return err
}

func u64Ptr(v *uint64) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// legQualitySelect is what legs selects after the leg's own columns, in scanQuality's order.
const legQualitySelect = `, packets_lost, loss, jitter_ms, peer_packets_lost, peer_loss, peer_jitter_ms, rtt_ms, mos`

// qualityScan holds one row's quality columns.
type qualityScan struct {
	lost, peerLost                               sql.NullInt64
	loss, jitter, peerLoss, peerJitter, rtt, mos sql.NullFloat64
}

func (q *qualityScan) dest() []any {
	return []any{&q.lost, &q.loss, &q.jitter, &q.peerLost, &q.peerLoss, &q.peerJitter, &q.rtt, &q.mos}
}

// quality is the scanned row's quality, nil when it has none.
func (q *qualityScan) quality() (*LegQuality, error) {
	if !q.mos.Valid {
		return nil, nil
	}
	if q.lost.Int64 < 0 || q.peerLost.Int64 < 0 {
		return nil, fmt.Errorf("negative packet count")
	}
	l := &LegQuality{PacketsLost: uint64(q.lost.Int64), Loss: q.loss.Float64, JitterMS: q.jitter.Float64, MOS: q.mos.Float64}
	if q.peerLost.Valid {
		n := uint64(q.peerLost.Int64)
		l.PeerPacketsLost = &n
	}
	l.PeerLoss, l.PeerJitterMS, l.RTTMS = floatPtr(q.peerLoss), floatPtr(q.peerJitter), floatPtr(q.rtt)
	return l, nil
}

func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}
