package sip

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testPassword = "s3cret"

// testServer is a started Server on loopback with a fake clock, seats seat-01…seat-09
// (password testPassword), its log and its metrics.
type testServer struct {
	*Server
	clock *fakeClock
	log   *syncBuffer
	// level is the log's level (info unless a test lowers it).
	level *slog.LevelVar
	prom  *prometheus.Registry
}

func startServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	return startServerWith(t, mutate, nil)
}

// startServerWith is startServer with a hook run on the server before it starts.
func startServerWith(t *testing.T, mutate func(*Config), before func(*Server)) *testServer {
	t.Helper()
	ts := &testServer{clock: newFakeClock(), log: &syncBuffer{}, level: &slog.LevelVar{}, prom: prometheus.NewRegistry()}
	cfg := Config{Listen: "127.0.0.1:0", Now: ts.clock.Now, Metrics: NewMetrics(ts.prom),
		Logger: slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: ts.level})),
		Credentials: func(u string) (string, bool) {
			return testPassword, strings.HasPrefix(u, "seat-0") && len(u) == 7
		}}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg, func(c *InboundCall) { _ = c.Reject(486, "Busy Here") })
	require.NoError(t, err)
	if before != nil {
		before(s)
	}
	require.NoError(t, s.Start())
	t.Cleanup(func() { s.Close() })
	ts.Server = s
	return ts
}

// counter reads a counter or gauge of the server's registry (0 when absent).
func (ts *testServer) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := ts.prom.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// udpPeer is a hand-driven SIP client on a UDP socket: it sends requests as text and reads
// the final responses.
type udpPeer struct {
	t    *testing.T
	conn *net.UDPConn
	srv  *net.UDPAddr
	n    int
}

func newUDPPeer(t *testing.T, srv string) *udpPeer {
	t.Helper()
	return udpPeerOn(t, listenUDP(t), srv)
}

// listenUDP opens a loopback UDP socket, closed at the end of the test.
func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// udpPeerOn is a peer on socket c talking to srv.
func udpPeerOn(t *testing.T, c *net.UDPConn, srv string) *udpPeer {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", srv)
	require.NoError(t, err)
	return &udpPeer{t: t, conn: c, srv: a}
}

func (p *udpPeer) addr() string { return p.conn.LocalAddr().String() }

// send writes a raw message.
func (p *udpPeer) send(msg string) {
	p.t.Helper()
	_, err := p.conn.WriteToUDP([]byte(msg), p.srv)
	require.NoError(p.t, err)
}

// final reads responses until a final one (≥200) and returns it.
func (p *udpPeer) final() *siplib.Response {
	p.t.Helper()
	return p.finalFor("")
}

// finalFor reads responses until a final one for the call callID ("": any call).
func (p *udpPeer) finalFor(callID string) *siplib.Response {
	p.t.Helper()
	buf := make([]byte, 65536)
	for {
		require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		n, _, err := p.conn.ReadFromUDP(buf)
		require.NoError(p.t, err, "no response from the server")
		msg, err := siplib.ParseMessage(buf[:n])
		require.NoError(p.t, err)
		res, ok := msg.(*siplib.Response)
		if ok && res.StatusCode >= 200 && (callID == "" || res.CallID().Value() == callID) {
			return res
		}
	}
}

// collect reads responses until it has a final one for each of the calls ids, and
// returns them by Call-ID (retransmissions and other calls' responses are skipped).
func (p *udpPeer) collect(ids []string) map[string]*siplib.Response {
	p.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]*siplib.Response{}
	buf := make([]byte, 65536)
	for len(out) < len(want) {
		require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		k, _, err := p.conn.ReadFromUDP(buf)
		require.NoError(p.t, err, "responses missing: have %d of %d", len(out), len(want))
		msg, err := siplib.ParseMessage(buf[:k])
		require.NoError(p.t, err)
		if res, ok := msg.(*siplib.Response); ok && res.StatusCode >= 200 && want[res.CallID().Value()] {
			out[res.CallID().Value()] = res
		}
	}
	return out
}

// register builds a REGISTER for seat with the given Authorization header value ("" for
// none).
func (p *udpPeer) register(seat, auth string, expires int) string {
	p.n++
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", p.srv)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%d\r\n", p.addr(), time.Now().UnixNano(), p.n)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@127.0.0.1>;tag=t%d\r\n", seat, p.n)
	fmt.Fprintf(&b, "To: <sip:%s@127.0.0.1>\r\n", seat)
	fmt.Fprintf(&b, "Call-ID: reg-%s-%s\r\n", seat, p.addr())
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", p.n)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", seat, p.addr())
	fmt.Fprintf(&b, "Expires: %d\r\n", expires)
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// do sends msg and returns the final response.
func (p *udpPeer) do(msg string) *siplib.Response {
	p.t.Helper()
	p.send(msg)
	return p.final()
}

// challenge asks the server for a nonce.
func (p *udpPeer) challenge(seat string) *digest.Challenge {
	p.t.Helper()
	res := p.do(p.register(seat, "", 60))
	require.Equal(p.t, 401, res.StatusCode)
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	require.NoError(p.t, err)
	return chal
}

// authorization answers chal for a REGISTER with nonce count nc.
func (p *udpPeer) authorization(chal *digest.Challenge, seat, password string, nc int) string {
	p.t.Helper()
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + p.srv.String(),
		Username: seat, Password: password, Count: nc})
	require.NoError(p.t, err)
	return cred.String()
}

// invite builds an INVITE with an SDP offer.
func (p *udpPeer) invite(callID string) string {
	p.n++
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:12345@%s SIP/2.0\r\n", p.srv)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", p.addr(), callID, p.n)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:caller@127.0.0.1>;tag=f%d\r\n", p.n)
	b.WriteString("To: <sip:12345@127.0.0.1>\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	b.WriteString("CSeq: 1 INVITE\r\n")
	fmt.Fprintf(&b, "Contact: <sip:caller@%s>\r\n", p.addr())
	b.WriteString("Content-Type: application/sdp\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}
