package dispatch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A detector that starts again takes up the alerts left open, as they were stored: a new
// call about one grows it under its id, an admin can acknowledge it, it expires a window
// after its last call, and new alerts take ids no stored alert had.
func TestHotspotRestore(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3, Window: time.Hour}, clk)
	lift := Alert{ID: "hotspot-4", State: AlertRaised, Department: "market-regulation", Issue: "电梯故障",
		IssueID: "lift-fault", Place: "阳光花园3号楼", CallIDs: []string{"c1", "c2", "c3"},
		RaisedAt: clk.t.Add(-20 * time.Minute), LastCallAt: clk.t.Add(-20 * time.Minute)}
	lapsed := Alert{ID: "hotspot-5", State: AlertAcknowledged, Issue: "停水", IssueID: "water-outage", Place: "海韵家园",
		CallIDs: []string{"w1", "w2", "w3"}, LastCallAt: clk.t.Add(-61 * time.Minute)}
	closed := Alert{ID: "hotspot-6", State: AlertClosed, Issue: "停水", IssueID: "water-outage", Place: "金色家园",
		CallIDs: []string{"x1", "x2", "x3"}, LastCallAt: clk.t}
	require.Equal(t, 1, h.Restore([]Alert{lift, lapsed, closed}, []string{"hotspot-4", "hotspot-9", "hotspot-6", "other-12"}))
	require.Zero(t, h.Restore([]Alert{lift}, nil), "taken up once")

	live := h.Alerts()
	require.Len(t, live, 1)
	require.Equal(t, "hotspot-4", live[0].ID)
	require.Equal(t, "阳光花园3号楼", live[0].Place)
	require.Equal(t, "电梯故障", live[0].Issue)

	grown := h.Observe("c4", "", "阳光花园三号楼电梯又坏了，停在五楼不动")
	require.Len(t, grown, 1, "the next call joins the restored alert")
	require.Equal(t, "hotspot-4", grown[0].ID)
	require.Equal(t, AlertGrown, grown[0].State)
	require.Equal(t, []string{"c1", "c2", "c3", "c4"}, grown[0].CallIDs)
	require.Equal(t, lift.RaisedAt, grown[0].RaisedAt)
	ack, err := h.Acknowledge("hotspot-4", "admin-li")
	require.NoError(t, err)
	require.Equal(t, AlertAcknowledged, ack.State)
	_, err = h.Acknowledge("hotspot-5", "admin-li")
	require.ErrorIs(t, err, ErrNoAlert, "an alert past its window is not taken up")

	// a new alert's id follows the highest stored
	var fresh []Alert
	for i, text := range []string{"海韵家园停水了", "海运家园家里一滴水都没有", "海韵家园水龙头拧不出水"} {
		clk.advance(time.Minute)
		fresh = h.Observe(string(rune('a'+i)), "", text)
	}
	require.Len(t, fresh, 1)
	require.Equal(t, "hotspot-10", fresh[0].ID)

	clk.advance(61 * time.Minute)
	ended := h.Expire()
	require.Len(t, ended, 2)
	require.Equal(t, "hotspot-4", ended[0].ID)
	require.Equal(t, AlertExpired, ended[0].State)
}
