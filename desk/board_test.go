package desk

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// liftAlert is an open hotspot alert whose last call came at last, with a one-hour window.
func liftAlert(id, state string, count int, last time.Time) Event {
	return Event{Type: TypeHotspot, Data: HotspotData{ID: id, State: state, Issue: "电梯故障", Place: "阳光花园3号楼",
		Count: count, WindowS: 3600, LastCallAt: last, RaisedAt: last, Examples: []string{"我的电话13812345678"}}}
}

func poorCall(callID, seat string, seatPoor bool) Event {
	return Event{Type: TypeQuality, CallID: callID, Seat: seat, Data: CallQualityData{Poor: true, SeatPoor: seatPoor,
		Legs: []LegQualityData{{Leg: "caller", Rated: true, Poor: !seatPoor, MOS: 3.1, Loss: 0.12},
			{Leg: "agent", Rated: true, Poor: seatPoor, MOS: 2.9, Loss: 0.08}}}}
}

// An admin who connects is told at once, after the hello and before anything new, of the
// alerts still open (the latest state of each, speech masked) and the calls flagged for
// poor audio now: not of alerts closed, expired or past their window, nor of calls that
// recovered or ended. Those events carry no seq. Seats and screens that take other types
// are told nothing of it.
func TestWallboardStateOnConnect(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	now := e.clock.Now()
	e.publish(liftAlert("hotspot-1", "raised", 3, now.Add(-10*time.Minute)))
	e.publish(liftAlert("hotspot-1", "acknowledged", 3, now.Add(-10*time.Minute)))
	e.publish(liftAlert("hotspot-2", "raised", 3, now))
	e.publish(liftAlert("hotspot-2", "closed", 3, now))
	e.publish(liftAlert("hotspot-3", "raised", 3, now))
	e.publish(liftAlert("hotspot-3", "expired", 3, now))
	e.publish(liftAlert("hotspot-4", "raised", 5, now.Add(-61*time.Minute))) // its window passed
	e.publish(poorCall("c1", "seat-01", false))
	e.publish(poorCall("c2", "seat-02", true))
	e.publish(Event{Type: TypeQuality, CallID: "c2", Seat: "seat-02", Data: CallQualityData{}}) // recovered
	e.publish(poorCall("c3", "seat-03", true))
	e.publish(Event{Type: TypeEnded, CallID: "c3", Seat: "seat-03", Data: CallEndedData{Reason: "completed"}})
	e.publish(poorCall("c4", "seat-04", true))

	adm := e.connect(e.login("admin", "adminpw"), -1)
	var got []wireEvent
	for range 3 {
		got = append(got, adm.next())
	}
	require.Equal(t, TypeHotspot, got[0].Type)
	var a HotspotData
	require.NoError(t, json.Unmarshal(got[0].Data, &a))
	require.Equal(t, "hotspot-1", a.ID)
	require.Equal(t, "acknowledged", a.State)
	require.NotContains(t, string(got[0].Data), "13812345678", "admins read speech masked")
	require.Equal(t, TypeQuality, got[1].Type)
	require.Equal(t, "c1", got[1].CallID)
	require.Equal(t, "c4", got[2].CallID)
	require.Equal(t, "seat-04", got[2].Seat)
	for _, ev := range got {
		require.Zero(t, ev.Seq, "the state repeats, it does not move the screen's position")
	}
	live := e.offer("c9", "seat-01")
	require.Equal(t, live.Seq, adm.next().Seq, "then the stream goes on live")

	seat := e.connect(e.login("seat-04", seatPass), -1)
	board := e.connect(e.login("admin", "adminpw"), -1)
	q := url.Values{"types": {"seat.state"}}
	c, _, err := e.dialQuery(e.login("admin", "adminpw"), -1, q)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	states := &wsClient{t: t, c: c}
	require.Equal(t, TypeHello, states.next().Type)
	require.Equal(t, TypeHotspot, board.next().Type, "every admin who connects")
	ev := e.publish(Event{Type: TypeSeatState, Seat: "seat-04", Data: SeatStateData{State: "away"}})
	require.Equal(t, ev.Seq, seat.next().Seq, "a seat is not sent the wallboard's state")
	require.Equal(t, ev.Seq, states.next().Seq, "nor a screen that takes other types")
}

// A desk that starts on the store of one that stopped shows the alerts still open, and
// not those whose window passed meanwhile.
func TestWallboardAlertsOutliveRestart(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	now := e.clock.Now()
	e.publish(liftAlert("hotspot-1", "raised", 3, now))
	e.publish(liftAlert("hotspot-1", "grown", 4, now.Add(-40*time.Minute)))
	e.publish(liftAlert("hotspot-2", "raised", 3, now))
	require.NoError(t, e.desk.Close())

	e.clock.Add(30 * time.Minute) // hotspot-1's window has passed
	again := restartDesk(t, e)
	adm := again.connect(again.login("admin", "adminpw"), -1)
	first := adm.next()
	var a HotspotData
	require.NoError(t, json.Unmarshal(first.Data, &a))
	require.Equal(t, "hotspot-2", a.ID)
	live := again.offer("c9", "seat-01")
	require.Equal(t, live.Seq, adm.next().Seq, "hotspot-1 is not shown")
}

// The desk's day is the reports' zone's: at 00:30 in Shanghai (16:30 UTC) today holds the
// calls since Shanghai's midnight, by Shanghai's hours, and a day's call list too.
func TestWallboardDayFollowsZone(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	e := newEnv(t, Config{Location: shanghai}, Options{})
	e.clock.t = time.Date(2026, 12, 6, 16, 30, 0, 0, time.UTC)
	for id, at := range map[string]time.Time{
		"yesterday": time.Date(2026, 12, 6, 15, 50, 0, 0, time.UTC), // 23:50 on the 6th in Shanghai
		"today-1":   time.Date(2026, 12, 6, 16, 5, 0, 0, time.UTC),  // 00:05 on the 7th
		"today-2":   time.Date(2026, 12, 6, 16, 20, 0, 0, time.UTC), // 00:20
	} {
		require.NoError(t, e.st.Write(t.Context(), store.Call{ID: id, Seat: "seat-01", OfferedAt: at}))
	}
	adm := e.login("admin", "adminpw")
	code, body := e.do("GET", "/api/stats/today", adm, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var today struct {
		Date  string         `json:"date"`
		Stats store.DayStats `json:"stats"`
		Hours []hourCount    `json:"hours"`
	}
	require.NoError(t, json.Unmarshal(body, &today))
	require.Equal(t, "2026-12-07", today.Date)
	require.Equal(t, 2, today.Stats.Offered)
	require.Equal(t, 2, today.Hours[0].Offered, "both in Shanghai's first hour")

	code, body = e.do("GET", "/api/calls?date=2026-12-07", adm, nil)
	require.Equal(t, http.StatusOK, code)
	var calls []store.Call
	require.NoError(t, json.Unmarshal(body, &calls))
	require.Len(t, calls, 2)

	e.clock.Add(-time.Hour) // 23:30 on the 6th in Shanghai
	_, body = e.do("GET", "/api/stats/today", adm, nil)
	require.NoError(t, json.Unmarshal(body, &today))
	require.Equal(t, "2026-12-06", today.Date)
	require.Equal(t, 1, today.Stats.Offered, "the call at 23:50 is the 6th's")
}

// restartDesk starts a desk, as a gateway that starts again would, on the store of e's,
// whose desk has stopped; on a server of its own, with e's clock.
func restartDesk(t *testing.T, e *env) *env {
	t.Helper()
	d, err := New(Config{Users: map[string]string{"admin": adminHash}}, e.st, Options{Now: e.clock.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		require.NoError(t, d.Close())
		srv.Close()
	})
	return &env{t: t, desk: d, st: e.st, srv: srv, clock: e.clock}
}
