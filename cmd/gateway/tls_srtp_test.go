package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/internal/audiotest"
	"lianxin/internal/testpeer"
	"lianxin/sip"
)

// startTLSGateway is startGateway with SIP over TLS on a loopback port and its
// self-signed certificate, which the baresip phones are given as their CA.
func startTLSGateway(t *testing.T, mutate func(*config.Config)) (g *testGateway, tlsAddr, ca string) {
	t.Helper()
	g = startGateway(t, func(c *config.Config) {
		c.SIP.TLSListen = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	})
	return g, g.app.sip.TLSAddr().String(), filepath.Join(g.dataDir, sip.SelfSignedCert)
}

// tlsSeat starts a baresip seat registering over TLS with SRTP (mediaenc).
func (g *testGateway) tlsSeat(t *testing.T, id, tlsAddr, ca, mediaenc string) *testpeer.Baresip {
	t.Helper()
	return g.seat(t, id, func(o *testpeer.BaresipOptions) {
		o.Gateway, o.Transport, o.CAFile, o.MediaEnc = tlsAddr, "tls", ca, mediaenc
	})
}

// heard waits for the WAV a baresip phone recorded of its call and returns it.
func heard(t *testing.T, b *testpeer.Baresip) []int16 {
	t.Helper()
	var pcm []int16
	require.Eventually(t, func() bool {
		for _, f := range b.Received() {
			if p, rate, ch, err := testpeer.ReadWAV(f); err == nil && rate == 8000 && ch == 1 && len(p) > 8000 {
				pcm = p
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "the phone's recording never finished:\n%s", b.Log())
	return pcm
}

// A caller and a seat, both baresip over TLS with SRTP only (RTP/SAVP), talk through the
// gateway: each leg is TLS and SRTP, the seat hears the caller, and the recording holds
// both sides.
func TestTLSSRTPCallBetweenPhones(t *testing.T) {
	g, tlsAddr, ca := startTLSGateway(t, func(c *config.Config) {
		c.Seats.Security = map[string]config.SecurityConfig{"seat-01": {TLS: sip.TLSRequired, SRTP: sip.SRTPRequired}}
	})
	s := g.tlsSeat(t, "seat-01", tlsAddr, ca, "srtp-mand")
	callerWAV := fixture("audio/caller.wav")
	caller := testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: tlsAddr, Transport: "tls", CAFile: ca,
		MediaEnc: "srtp-mand", Audio: callerWAV, Dial: "sip:12345@" + tlsAddr + ";transport=tls", Lifetime: 40 * time.Second})

	want, err := testpeer.ReadWAV8k(callerWAV)
	require.NoError(t, err)
	c, _ := audiotest.BestCorrelation(want, heard(t, s), 3*8000)
	require.Greater(t, c, 0.8, "the seat heard the caller through two SRTP legs:\ncaller:\n%s", caller.Log())

	var recs []string
	require.Eventually(t, func() bool { recs = recordings(t, g.dataDir); return len(recs) == 1 }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 0 }, 15*time.Second, 50*time.Millisecond)
	pcm, _, _, err := testpeer.ReadWAV(recs[0])
	require.NoError(t, err)
	cl, _ := audiotest.BestCorrelation(want, audiotest.Channel(pcm, 2, 0), 3*8000)
	require.Greater(t, cl, 0.8, "the recording's left channel is the caller")
	agent, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)
	cr, _ := audiotest.BestCorrelation(agent, audiotest.Channel(pcm, 2, 1), 10*8000)
	require.Greater(t, cr, 0.7, "the recording's right channel is the agent")

	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_sip_call_legs_total{media="srtp",side="caller",transport="tls"}`))
	require.Equal(t, 1.0, metricValue(m, `lianxin_sip_call_legs_total{media="srtp",side="seat",transport="tls"}`))
	for _, leg := range []string{"caller", "agent"} {
		require.Equal(t, 0.0, metricValue(m, `lianxin_rtp_packets_dropped_total{leg="`+leg+`",reason="unauthenticated"}`),
			"every packet of the %s leg authenticated", leg)
	}
}

// A plain caller (sipp over UDP) reaches a seat on TLS whose phone takes SRTP when it is
// offered: the gateway offers it beside plain RTP (policy optional), the seat leg is
// encrypted, the caller's is not, and the seat hears the caller.
func TestPlainCallerReachesSRTPSeat(t *testing.T) {
	g, tlsAddr, ca := startTLSGateway(t, nil)
	s := g.tlsSeat(t, "seat-01", tlsAddr, ca, "srtp")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)
	want, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	c, _ := audiotest.BestCorrelation(want, heard(t, s), 3*8000)
	require.Greater(t, c, 0.8, "the SRTP seat heard the plain caller")
	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_sip_call_legs_total{media="rtp",side="caller",transport="udp"}`))
	require.Equal(t, 1.0, metricValue(m, `lianxin_sip_call_legs_total{media="srtp",side="seat",transport="tls"}`))
}

// A line that requires SRTP refuses a caller who offers plain RTP with 488, before any
// seat is rung.
func TestSRTPRequiredLineRefusesPlainCaller(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.Lines = []config.LineConfig{{Number: "12345", Security: config.SecurityConfig{SRTP: sip.SRTPRequired}}}
	})
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller_srtp_required.xml")
	require.NoError(t, err, "the plain offer is answered 488:\n%s", out)
	require.Equal(t, "available", string(g.app.acd.States()["seat-01"]), "the seat was never rung")
	require.Equal(t, 1.0, metricValue(g.metrics(t), `lianxin_sip_rejections_total{code="488"}`))
}

// A seat whose policy requires SRTP is never offered plain RTP: its phone, which has no
// SRTP, refuses the gateway's RTP/SAVP offer with 488, so no plain call reaches it, and
// the call waits in the queue (offered again a ring timeout later) until the caller gives
// up.
func TestSRTPRequiredSeatGetsNoPlainCall(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.Seats.Security = map[string]config.SecurityConfig{"seat-01": {SRTP: sip.SRTPRequired}}
		c.ACD.RingTimeout = 2 * time.Second
	})
	s := g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller_cancel.xml", "-d", "5000")
	require.NoError(t, err, "the caller waits unanswered and cancels:\n%s", out)
	// baresip answers an offer whose profile it lacks with 488, logging this
	require.GreaterOrEqual(t, strings.Count(s.Log(), "no common audio codecs - rejected"), 2,
		"the phone refused the SRTP-only offer, and again a ring timeout later:\n%s", s.Log())
	require.NotContains(t, s.Log(), "Call established")
	m := g.metrics(t)
	require.Equal(t, -1.0, metricValue(m, `lianxin_sip_call_legs_total{media="rtp",side="seat"`), "no plain seat leg")
	require.Equal(t, -1.0, metricValue(m, `lianxin_calls_answered_total{line="12345"}`), "no call answered")
}

// A seat whose policy requires TLS cannot register over UDP: its phone is told 403 with
// the reason, and the seat stays offline.
func TestTLSRequiredSeatRefusedOverUDP(t *testing.T) {
	g, _, _ := startTLSGateway(t, func(c *config.Config) {
		c.Seats.Security = map[string]config.SecurityConfig{"seat-01": {TLS: sip.TLSRequired}}
	})
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: g.sipAddr, User: "seat-01", Password: "secret",
		Audio: seatAudio(t), Lifetime: 20 * time.Second})
	require.True(t, b.WaitLog(t, "403 Forbidden (TLS required)", 10*time.Second), "refused with the reason:\n%s", b.Log())
	require.Equal(t, "offline", string(g.app.acd.States()["seat-01"]))
	require.Equal(t, 1.0, metricValue(g.metrics(t), `lianxin_sip_register_requests_total{result="tls_required"}`))
}
