package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/desk"
	"lianxin/internal/testpeer"
	"lianxin/sip"
	"lianxin/store"
)

// A sipp caller whose path loses every tenth packet reaches a baresip seat. The admin's
// wallboard is told at once that the call's audio is poor (and that the seat's is not);
// the call's record keeps the caller leg's loss of about 10 % with a MOS under the
// threshold, and the seat's leg, from baresip's own RTCP reports, a round trip, no loss
// either way (the gaps relayed from the caller are not the seat's) and a good MOS.
func TestCallQualityLossyCallerAndBaresipSeat(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.Media.RTCPInterval = time.Second })
	ws := g.openWS(t, g.login(t, testAdmin, testAdminPassword), -1, nil)
	g.seat(t, "seat-01")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := g.sippCallLossy(ctx, t, longCallerAudio(t), 10)
	require.NoError(t, err, out)

	evs := ws.waitFor(t, "the call's end", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == desk.TypeEnded && e.Seat == "seat-01" }) != nil
	})
	flag := find(evs, func(e wsEvent) bool { return e.Type == desk.TypeQuality })
	require.NotNil(t, flag, "the wallboard was told of the poor call: %v", summarise(evs))
	var q desk.CallQualityData
	require.NoError(t, json.Unmarshal(flag.Data, &q))
	require.True(t, q.Poor, "%s", flag.Data)
	require.False(t, q.SeatPoor, "the seat's own leg is clean: %s", flag.Data)
	require.Equal(t, "seat-01", flag.Seat)
	require.Equal(t, "caller", q.Legs[0].Leg)
	require.True(t, q.Legs[0].Poor, "%s", flag.Data)
	// a 1 s interval holds 50 packets, 4 to 6 of them lost
	require.InDelta(t, 0.10, q.Legs[0].Loss, 0.03, "%s", flag.Data)
	require.Less(t, q.Legs[0].MOS, 3.8, "%s", flag.Data)

	legs := g.legQuality(t, flag.CallID)
	caller, agent := legs["caller"], legs["agent"]
	t.Logf("caller leg %s; seat leg %s", show(caller), show(agent))
	require.NotNil(t, caller, "the caller leg's quality is stored")
	require.InDelta(t, 0.10, caller.Loss, 0.02, "caller leg: %+v", caller)
	require.Less(t, caller.MOS, 3.5)
	require.Nil(t, caller.RTTMS, "sipp sends no RTCP")

	require.NotNil(t, agent, "the seat leg's quality is stored")
	require.Zero(t, agent.PacketsLost, "nothing lost from the seat")
	require.NotNil(t, agent.RTTMS, "a round trip from baresip's reports: %+v", agent)
	// loopback is a fraction of a millisecond, and baresip counts its report delay in
	// whole milliseconds: the sample is 0 to about 1 ms
	require.GreaterOrEqual(t, *agent.RTTMS, 0.0)
	require.Less(t, *agent.RTTMS, 20.0)
	require.NotNil(t, agent.PeerLoss, "baresip's view of the gateway's stream")
	require.Less(t, *agent.PeerLoss, 0.02, "the gaps relayed from the caller are not lost on the seat's leg")
	require.Greater(t, agent.MOS, 4.0)

	m := g.metrics(t)
	require.GreaterOrEqual(t, metricValue(m, `lianxin_leg_mos_count{leg="caller"}`), 1.0)
	require.Greater(t, metricValue(m, `lianxin_rtcp_packets_total{direction="received",leg="agent"}`), 0.0)
	require.Greater(t, metricValue(m, `lianxin_rtcp_packets_total{direction="sent",leg="caller"}`), 0.0)
}

// Two baresip phones that multiplex RTCP on their RTP ports (RFC 5761): the gateway
// offers rtcp-mux to the seat and accepts the caller's, and both legs get round trips
// from reports that travel on the RTP ports.
func TestCallQualityRTCPMux(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.Media.RTCPInterval = time.Second })
	ws := g.openWS(t, g.login(t, testAdmin, testAdminPassword), -1, nil)
	seat := g.seat(t, "seat-01", func(o *testpeer.BaresipOptions) { o.RTCPMux = true })
	caller := testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: g.sipAddr, Audio: longCallerAudio(t),
		Dial: "sip:12345@" + g.sipAddr, RTCPMux: true, Lifetime: 60 * time.Second})

	evs := ws.waitFor(t, "the call's end", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == desk.TypeEnded && e.Seat == "seat-01" }) != nil
	})
	end := find(evs, func(e wsEvent) bool { return e.Type == desk.TypeEnded && e.Seat == "seat-01" })
	legs := g.legQuality(t, end.CallID)
	t.Logf("caller leg %s; seat leg %s", show(legs["caller"]), show(legs["agent"]))
	for _, b := range []*testpeer.Baresip{caller, seat} {
		require.Contains(t, b.Log(), "RTP/RTCP multiplexing enabled", "rtcp-mux was negotiated")
	}
	for _, leg := range []string{"caller", "agent"} {
		q := legs[leg]
		require.NotNil(t, q, "%s leg's quality is stored", leg)
		require.NotNil(t, q.RTTMS, "%s leg: a round trip from muxed reports: %+v\n%s", leg, q, caller.Log())
		require.NotNil(t, q.PeerLoss, "%s leg: the phone's receiver reports arrived", leg)
		require.Zero(t, q.PacketsLost, "%s leg", leg)
		require.Greater(t, q.MOS, 4.0, "%s leg", leg)
	}
	require.Nil(t, find(evs, func(e wsEvent) bool { return e.Type == desk.TypeQuality }), "a clean call is never flagged")
}

func show(q *store.LegQuality) string {
	b, _ := json.Marshal(q)
	return string(b)
}

// longCallerAudio is the caller fixture twice over (about 18 s): long enough for
// baresip's reports, which come about every 5 s.
func longCallerAudio(t *testing.T) string {
	t.Helper()
	pcm, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "caller-long.wav")
	require.NoError(t, testpeer.WriteWAV(out, append(pcm, pcm...), 8000, 1))
	return out
}

// sippCallLossy places one sipp call that streams wav with every nth packet missing.
func (g *testGateway) sippCallLossy(ctx context.Context, t *testing.T, wav string, nth int) (string, error) {
	t.Helper()
	dir := t.TempDir()
	dur, err := testpeer.WritePCMUPcapLossy(wav, filepath.Join(dir, "caller.pcap"), nth)
	require.NoError(t, err)
	mp := testpeer.FreeUDPPorts(t, 4)
	return testpeer.Sipp(ctx, t, dir, g.sipAddr, "-sf", fixture("sipp/caller.xml"), "-s", "12345", "-p", "0",
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(mp), "-m", "1", "-d", fmt.Sprint((dur + 500*time.Millisecond).Milliseconds()))
}

// legQuality reads a call's legs from the call history API, by leg.
func (g *testGateway) legQuality(t *testing.T, callID string) map[string]*store.LegQuality {
	t.Helper()
	tok := g.login(t, testAdmin, testAdminPassword)
	var d store.CallDetail
	require.Eventually(t, func() bool {
		code, body := g.api(t, "GET", "/api/calls/"+callID, tok, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &d))
		return len(d.Legs) == 2
	}, 10*time.Second, 50*time.Millisecond, "the call's legs are stored")
	out := map[string]*store.LegQuality{}
	for _, l := range d.Legs {
		out[strings.ToLower(l.Leg)] = l.Quality
	}
	return out
}

// Two baresip phones on TLS with SRTP only: each leg's RTCP is SRTCP with the leg's keys,
// and both legs get round trips from the phones' encrypted reports.
func TestCallQualitySRTCP(t *testing.T) {
	g, tlsAddr, ca := startTLSGateway(t, func(c *config.Config) {
		c.Media.RTCPInterval = time.Second
		c.Seats.Security = map[string]config.SecurityConfig{"seat-01": {TLS: sip.TLSRequired, SRTP: sip.SRTPRequired}}
	})
	ws := g.openWS(t, g.login(t, testAdmin, testAdminPassword), -1, nil)
	g.tlsSeat(t, "seat-01", tlsAddr, ca, "srtp-mand")
	caller := testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: tlsAddr, Transport: "tls", CAFile: ca,
		MediaEnc: "srtp-mand", Audio: longCallerAudio(t), Dial: "sip:12345@" + tlsAddr + ";transport=tls", Lifetime: 60 * time.Second})

	evs := ws.waitFor(t, "the call's end", func(evs []wsEvent) bool {
		return find(evs, func(e wsEvent) bool { return e.Type == desk.TypeEnded && e.Seat == "seat-01" }) != nil
	})
	end := find(evs, func(e wsEvent) bool { return e.Type == desk.TypeEnded && e.Seat == "seat-01" })
	legs := g.legQuality(t, end.CallID)
	t.Logf("caller leg %s; seat leg %s", show(legs["caller"]), show(legs["agent"]))
	m := g.metrics(t)
	for _, leg := range []string{"caller", "agent"} {
		q := legs[leg]
		require.NotNil(t, q, "%s leg's quality is stored", leg)
		require.NotNil(t, q.RTTMS, "%s leg: a round trip from the phone's SRTCP reports: %+v\n%s", leg, q, caller.Log())
		// baresip also sends the odd packet that is no SRTCP (a 16-byte one as the call
		// starts, one whose tag fails as it hangs up): those are refused, its reports read
		got := metricValue(m, `lianxin_rtcp_packets_total{direction="received",leg="`+leg+`"}`)
		refused := metricValue(m, `lianxin_rtcp_packets_dropped_total{leg="`+leg+`",reason="malformed"}`)
		t.Logf("%s leg: %v SRTCP reports read, %v packets refused", leg, got, refused)
		require.GreaterOrEqual(t, got, 2.0, "%s leg: the phone's SRTCP reports authenticate", leg)
	}
}
