package sip

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzServer sends each input as one UDP datagram to a running server, the gateway's
// request handling whole: sipgo's parser and transactions, the request checks, the
// registrar with a seat's credentials, in-dialog matching, and a call handler that answers
// every call with early media (183 with an SDP answer, RTCP included) and then 486, as the
// torture server does. Then an OPTIONS follows: the server must still answer it, and
// everything it sends must be a response. A panic in any handler ends the run.
func FuzzServer(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(tortureDir, "*.dat"))
	require.NoError(f, err)
	require.Len(f, seeds, 49, "the RFC 4475 messages")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, m := range fuzzServerSeeds() {
		f.Add([]byte(m))
	}

	s, err := New(Config{Listen: "127.0.0.1:0", ForceRport: true, Logger: slog.New(slog.DiscardHandler),
		Credentials: func(u string) (string, bool) { return testPassword, u == "seat-01" },
		// the fuzzer is one address sending thousands of requests: no rate limit applies
		Security: Security{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		func(c *InboundCall) {
			_ = c.Progress(netip.MustParseAddrPort("127.0.0.1:40000"))
			_ = c.Reject(486, "Busy Here")
		})
	require.NoError(f, err)
	require.NoError(f, s.Start())
	f.Cleanup(func() { _ = s.Close() })
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(f, err)
	f.Cleanup(func() { _ = c.Close() })
	// every refused INVITE's final response is retransmitted until an ACK that never
	// comes: room for them, so the probe's answer is not lost among them
	require.NoError(f, c.SetReadBuffer(8<<20))
	to := net.UDPAddrFromAddrPort(s.Addr())
	probes := 0

	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) > 60000 {
			return // one UDP datagram
		}
		_, err := c.WriteToUDP(msg, to)
		require.NoError(t, err)
		// a datagram can still be lost on loopback when the host is busy: a few probes
		for range 5 {
			probes++
			if probeAnswered(t, c, to, fmt.Sprintf("fuzz-probe-%d", probes)) {
				return
			}
		}
		t.Fatalf("the server stopped answering after %q", msg)
	})
}

// probeAnswered sends an OPTIONS with Call-ID id and reads what the server sends until
// its 200 arrives (true) or 2 s pass (false). Everything the server sends is a response.
func probeAnswered(t *testing.T, c *net.UDPConn, to *net.UDPAddr, id string) bool {
	probe := "OPTIONS sip:lianxin@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-" + id + "\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:lianxin@127.0.0.1>\r\nCall-ID: " + id + "\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	_, err := c.WriteToUDP([]byte(probe), to)
	require.NoError(t, err)
	buf := make([]byte, 65535)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
	for {
		n, err := c.Read(buf)
		if err != nil {
			return false
		}
		reply := buf[:n]
		require.True(t, bytes.HasPrefix(reply, []byte("SIP/2.0 ")), "the server sends only responses: %q", reply)
		if ids := callIDs(reply); len(ids) == 1 && ids[0] == id {
			require.Equal(t, 200, statusCode(reply), "%q", reply)
			return true
		}
	}
}

// fuzzServerSeeds are well-formed requests of every kind the server handles.
func fuzzServerSeeds() []string {
	head := func(method, callID, toTag string) string {
		return method + " sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-" + callID + method + "\r\n" +
			"From: <sip:13800000000@127.0.0.1>;tag=a1\r\nTo: <sip:12345@127.0.0.1>" + toTag + "\r\nCall-ID: " + callID + "\r\n" +
			"CSeq: 1 " + method + "\r\nMax-Forwards: 70\r\nContact: <sip:13800000000@127.0.0.1:5070>\r\n"
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40010 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp:40011\r\na=rtcp-mux\r\na=sendrecv\r\n"
	withSDP := func(h string) string {
		return h + "Content-Type: application/sdp\r\nContent-Length: " + fmt.Sprint(len(sdp)) + "\r\n\r\n" + sdp
	}
	empty := "Content-Length: 0\r\n\r\n"
	return []string{
		withSDP(head("INVITE", "seed-invite", "")),
		withSDP(head("INVITE", "seed-reinvite", ";tag=b2")),
		head("ACK", "seed-invite", ";tag=b2") + empty,
		head("BYE", "seed-bye", ";tag=b2") + empty,
		head("CANCEL", "seed-invite", "") + empty,
		head("OPTIONS", "seed-options", "") + empty,
		head("INFO", "seed-info", ";tag=b2") + empty,
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-reg\r\n" +
			"From: <sip:seat-01@127.0.0.1>;tag=r1\r\nTo: <sip:seat-01@127.0.0.1>\r\nCall-ID: seed-register\r\n" +
			"CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContact: <sip:seat-01@127.0.0.1:5070>\r\nExpires: 60\r\n" + empty,
	}
}
