package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/internal/audiotest"
	"lianxin/internal/testpeer"
)

func TestSeatRegistration(t *testing.T) {
	g := startGateway(t, nil)
	good := g.seat(t, "seat-01")
	require.NotContains(t, good.Log(), "403 Forbidden")

	bad := testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: g.sipAddr, User: "seat-02", Password: "wrong",
		Audio: seatAudio(t), Lifetime: 20 * time.Second})
	require.True(t, bad.WaitLog(t, "403 Forbidden", 10*time.Second), "a wrong password is refused with 403:\n%s", bad.Log())
	require.Equal(t, "offline", string(g.app.acd.States()["seat-02"]))

	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_seat_state{seat="seat-01",state="available"}`))
	require.Equal(t, 1.0, metricValue(m, "lianxin_sip_registrations "))

	good.Stop() // baresip un-REGISTERs on the way out
	require.Eventually(t, func() bool { return g.app.acd.States()["seat-01"] == "offline" }, 10*time.Second, 50*time.Millisecond)
}

// TestCallReachesSeat: a sipp caller with known speech reaches a baresip seat; what the
// seat heard correlates with what sipp sent, and the stereo recording holds both sides.
func TestCallReachesSeat(t *testing.T) {
	g := startGateway(t, nil)
	s := g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)

	caller, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	agent, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)

	var heard []int16
	require.Eventually(t, func() bool {
		for _, f := range s.Received() {
			if pcm, rate, ch, err := testpeer.ReadWAV(f); err == nil && rate == 8000 && ch == 1 && len(pcm) > 8000 {
				heard = pcm
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "the seat's recording never finished (no BYE to the seat?):\n%s", s.Log())
	c, _ := audiotest.BestCorrelation(caller, heard, 3*8000)
	require.Greater(t, c, 0.8, "what the seat heard correlates with what the caller sent")

	var recs []string
	require.Eventually(t, func() bool { recs = recordings(t, g.dataDir); return len(recs) == 1 }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 0 }, 10*time.Second, 50*time.Millisecond)
	if d := os.Getenv("KEEP_REC"); d != "" {
		b, _ := os.ReadFile(recs[0])
		_ = os.WriteFile(d, b, 0o644)
	}
	pcm, rate, ch, err := testpeer.ReadWAV(recs[0])
	require.NoError(t, err)
	require.Equal(t, 8000, rate)
	require.Equal(t, 2, ch)
	left, right := audiotest.Channel(pcm, 2, 0), audiotest.Channel(pcm, 2, 1)
	cl, lagL := audiotest.BestCorrelation(caller, left, 3*8000)
	require.Greater(t, cl, 0.8, "left channel is the caller")
	cr, lagR := audiotest.BestCorrelation(agent, right, 10*8000)
	require.Greater(t, cr, 0.7, "right channel is the agent")
	cx, _ := audiotest.BestCorrelation(caller, right, 3*8000)
	require.Less(t, cx, 0.3, "the caller is not on the agent's channel")
	t.Logf("seat heard caller %.3f; recording left %.3f (lag %d) right %.3f (lag %d)", c, cl, lagL, cr, lagR)

	m := g.metrics(t)
	require.Equal(t, 1.0, metricValue(m, `lianxin_calls_answered_total{line="12345"}`))
	require.Greater(t, metricValue(m, `lianxin_rtp_packets_received_total{leg="caller"}`), 300.0)
}

func TestNoCommonCodec(t *testing.T) {
	g := startGateway(t, nil)
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller_g729.xml")
	require.NoError(t, err, "G.729-only offer is answered 488:\n%s", out)
	require.Equal(t, "available", string(g.app.acd.States()["seat-01"]), "the seat was never rung")
}

func TestMalformedSIPGets400(t *testing.T) {
	g := startGateway(t, nil)
	// RFC 4475 §3.1.2.4-style: a request whose CSeq is not a number.
	msg := "INVITE sip:12345@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-bad-1\r\n" +
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: bad-1\r\n" +
		"CSeq: notanumber INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	res := sendUDP(t, g.sipAddr, []byte(msg))
	require.True(t, strings.HasPrefix(res, "SIP/2.0 400"), "got %q", res)
	require.Contains(t, res, "bad-1")

	opts := "OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK-ok-1\r\n" +
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: ok-1\r\nCSeq: 1 OPTIONS\r\n" +
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	require.True(t, strings.HasPrefix(sendUDP(t, g.sipAddr, []byte(opts)), "SIP/2.0 200"), "still serving after garbage")
}

// A caller on A-law reaches a seat phone that speaks only µ-law: the gateway transcodes and
// the seat hears the caller.
func TestPCMACallerToPCMUSeat(t *testing.T) {
	g := startGateway(t, nil)
	s := g.seat(t, "seat-01", func(o *testpeer.BaresipOptions) { o.Codecs = "pcmu" })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller_pcma.xml")
	require.NoError(t, err, out)
	caller, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	var heard []int16
	require.Eventually(t, func() bool {
		for _, f := range s.Received() {
			if pcm, _, _, err := testpeer.ReadWAV(f); err == nil && len(pcm) > 8000 {
				heard = pcm
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond)
	c, _ := audiotest.BestCorrelation(caller, heard, 3*8000)
	require.Greater(t, c, 0.8, "the µ-law seat hears the A-law caller")
}

// A seat phone on TCP registers and takes a call from a UDP caller.
func TestSeatOverTCP(t *testing.T) {
	g := startGateway(t, nil)
	s := g.seat(t, "seat-01", func(o *testpeer.BaresipOptions) { o.Transport = "tcp" })
	reg, ok := g.app.sip.Registration("seat-01")
	require.True(t, ok)
	require.Equal(t, "TCP", strings.ToUpper(reg.Transport))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool { return len(s.Received()) == 1 }, 15*time.Second, 100*time.Millisecond)
}
