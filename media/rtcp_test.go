package media

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/stretchr/testify/require"
)

// memNet is an in-memory network for legs: every datagram written lands on wire, and the
// test delivers it (after moving the clock, or not at all) to the conn it was sent to.
type memNet struct {
	t     *testing.T
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
	wire  chan memPacket
	clock *manualTime
}

type memPacket struct {
	from, to netip.AddrPort
	b        []byte
}

// manualTime is a clock the test moves by hand.
type manualTime struct {
	mu  sync.Mutex
	now time.Time
}

func (m *manualTime) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualTime) advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

func newMemNet(t *testing.T) *memNet {
	return &memNet{t: t, conns: map[netip.AddrPort]*memConn{}, wire: make(chan memPacket, 1024),
		clock: &manualTime{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
}

func (n *memNet) listen(addr string) *memConn {
	c := &memConn{net: n, addr: netip.MustParseAddrPort(addr), in: make(chan memPacket, 1024), closed: make(chan struct{})}
	n.mu.Lock()
	n.conns[c.addr] = c
	n.mu.Unlock()
	return c
}

// next takes the next datagram off the wire.
func (n *memNet) next() memPacket {
	n.t.Helper()
	select {
	case p := <-n.wire:
		return p
	case <-time.After(ioTimeout):
		n.t.Fatal("nothing was sent")
		return memPacket{}
	}
}

// deliver hands p to the conn it was sent to.
func (n *memNet) deliver(p memPacket) {
	n.mu.Lock()
	c := n.conns[p.to]
	n.mu.Unlock()
	require.NotNil(n.t, c, "no conn at %s", p.to)
	c.in <- p
}

// memConn is one end of memNet, a net.PacketConn.
type memConn struct {
	net    *memNet
	addr   netip.AddrPort
	in     chan memPacket
	closed chan struct{}
	once   sync.Once
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.in:
		return copy(b, p.b), net.UDPAddrFromAddrPort(p.from), nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *memConn) WriteTo(b []byte, to net.Addr) (int, error) {
	c.net.wire <- memPacket{from: c.addr, to: to.(*net.UDPAddr).AddrPort(), b: append([]byte(nil), b...)}
	return len(b), nil
}

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(c.addr) }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// fakeTimer stands in for time.AfterFunc: it keeps the leg's next report, which the test
// fires, and the waits it was asked for.
type fakeTimer struct {
	mu    sync.Mutex
	f     func()
	waits []time.Duration
}

func (ft *fakeTimer) afterFunc(d time.Duration, f func()) func() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.f, ft.waits = f, append(ft.waits, d)
	return func() bool {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		ft.f = nil
		return true
	}
}

// fire runs the scheduled report now, on the test's goroutine.
func (ft *fakeTimer) fire() {
	ft.mu.Lock()
	f := ft.f
	ft.mu.Unlock()
	if f != nil {
		f()
	}
}

// memLeg is a leg on memNet whose reports the test fires.
type memLeg struct {
	*Leg
	*fakeTimer
}

func (n *memNet) leg(name string, rtpAddr, rtcpAddr string) memLeg {
	m := memLeg{fakeTimer: &fakeTimer{}}
	var rtcpConn net.PacketConn
	if rtcpAddr != "" {
		rtcpConn = n.listen(rtcpAddr)
	}
	m.Leg = NewLeg(n.listen(rtpAddr), LegOptions{Name: name, Now: n.clock.Now,
		RTCP: RTCPOptions{Conn: rtcpConn, AfterFunc: m.afterFunc}})
	n.t.Cleanup(func() { _ = m.Close() })
	return m
}

// report fires the leg's next report and takes it off the wire.
func (n *memNet) report(l memLeg) (memPacket, []rtcp.Packet) {
	n.t.Helper()
	l.fire()
	p := n.next()
	pkts, err := rtcp.Unmarshal(p.b)
	require.NoError(n.t, err)
	return p, pkts
}

func TestRTCPRoundTripGivesLossJitterAndRTT(t *testing.T) {
	for _, mux := range []bool{false, true} {
		name := map[bool]string{false: "RTCP on the port above", true: "rtcp-mux"}[mux]
		t.Run(name, func(t *testing.T) {
			n := newMemNet(t)
			a := n.leg("caller", "127.0.0.1:4000", "127.0.0.1:4001")
			b := n.leg("phone", "127.0.0.1:5000", "127.0.0.1:5001")
			require.NoError(t, a.SetRemote(netip.MustParseAddrPort("127.0.0.1:5000"), PCMU(), 0))
			require.NoError(t, b.SetRemote(netip.MustParseAddrPort("127.0.0.1:4000"), PCMU(), 0))
			if mux {
				a.SetRTCPPeer(RTCPPeer{Mode: RTCPMux})
				b.SetRTCPPeer(RTCPPeer{Mode: RTCPMux})
			}

			// 50 packets from a to b, the network loses the 10th and the 30th
			for i := range 50 {
				require.NoError(t, a.out.play(make([]int16, FrameSamples)))
				p := n.next()
				n.clock.advance(FrameDuration)
				if i != 9 && i != 29 {
					n.deliver(p)
				}
			}
			require.Eventually(t, func() bool { return b.Stats().PacketsIn == 48 }, ioTimeout, time.Millisecond)

			// a sends RTP: a sender report; 40 ms on the way
			const oneWay, hold = 40 * time.Millisecond, 700 * time.Millisecond
			p, pkts := n.report(a)
			wantTo := map[bool]string{false: "127.0.0.1:5001", true: "127.0.0.1:5000"}[mux]
			require.Equal(t, wantTo, p.to.String())
			sr, ok := pkts[0].(*rtcp.SenderReport)
			require.True(t, ok, "a leg that sends RTP sends a sender report, got %T", pkts[0])
			require.EqualValues(t, 50, sr.PacketCount)
			require.EqualValues(t, 50*FrameSamples, sr.OctetCount)
			require.Len(t, pkts, 2, "SR and SDES")
			cname, err := rtcp.CompoundPacket(pkts).CNAME()
			require.NoError(t, err)
			require.NotEmpty(t, cname)
			n.clock.advance(oneWay)
			n.deliver(p)
			require.Eventually(t, func() bool { return b.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond)

			// b only receives: a receiver report about a's stream, sent after holding a's
			// report for 700 ms, and 40 ms on the way back
			n.clock.advance(hold)
			p, pkts = n.report(b)
			rr, ok := pkts[0].(*rtcp.ReceiverReport)
			require.True(t, ok, "a leg that sends no RTP sends a receiver report, got %T", pkts[0])
			require.Len(t, rr.Reports, 1)
			blk := rr.Reports[0]
			require.Equal(t, sr.SSRC, blk.SSRC)
			require.EqualValues(t, 2, blk.TotalLost)
			require.EqualValues(t, 2*256/50, blk.FractionLost)
			require.EqualValues(t, uint32(hold*65536/time.Second), blk.Delay)
			n.clock.advance(oneWay)
			n.deliver(p)
			require.Eventually(t, func() bool { return a.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond)

			qa := a.Quality()
			require.EqualValues(t, 1, qa.RTTSamples)
			require.InDelta(t, (2 * oneWay).Seconds(), qa.RTT.Seconds(), 2.0/65536, "RTT = A − LSR − DLSR")
			require.EqualValues(t, 1, qa.PeerReports)
			require.EqualValues(t, 50, qa.PeerExpected)
			require.EqualValues(t, 2, qa.PeerLost)
			require.InDelta(t, 0.04, qa.PeerLossFraction(), 1e-9)
			qb := b.Quality()
			require.EqualValues(t, 50, qb.Expected)
			require.EqualValues(t, 2, qb.Lost)
			require.Zero(t, qb.RTTSamples, "b sent no sender report, so it has no round trip")
			require.InDelta(t, MOS(qa.RTT, qa.PeerJitter, 0.04), qa.MOS(), 1e-9, "the worse direction rates the leg")

			// closing a says BYE
			require.NoError(t, a.Close())
			p = n.next()
			pkts, err = rtcp.Unmarshal(p.b)
			require.NoError(t, err)
			require.IsType(t, &rtcp.Goodbye{}, pkts[len(pkts)-1])
			n.deliver(p)
			require.Eventually(t, func() bool { return b.Quality().PeerBye }, ioTimeout, time.Millisecond)
		})
	}
}

// xorProtector stands in for SRTCP: it changes every byte after the header, so a leg
// that does not unprotect cannot read what one that protects sends.
type xorProtector struct{}

func (xorProtector) ProtectRTCP(dst, pkt []byte) ([]byte, error) {
	out := append(dst, pkt...)
	for i := 8; i < len(out); i++ {
		out[i] ^= 0x5a
	}
	return out, nil
}

func (p xorProtector) UnprotectRTCP(dst, pkt []byte) ([]byte, error) {
	if len(pkt) < 8 {
		return nil, errors.New("short")
	}
	return p.ProtectRTCP(dst, pkt)
}

func TestRTCPProtectorWrapsEveryReport(t *testing.T) {
	n := newMemNet(t)
	a := n.leg("caller", "127.0.0.1:4000", "127.0.0.1:4001")
	b := n.leg("phone", "127.0.0.1:5000", "127.0.0.1:5001")
	require.NoError(t, a.SetRemote(netip.MustParseAddrPort("127.0.0.1:5000"), PCMU(), 0))
	require.NoError(t, b.SetRemote(netip.MustParseAddrPort("127.0.0.1:4000"), PCMU(), 0))
	a.SetRTCPProtector(xorProtector{})

	a.fire()
	p := n.next()
	_, err := rtcp.Unmarshal(p.b)
	require.Error(t, err, "what goes on the wire is protected")
	n.deliver(p)
	require.Eventually(t, func() bool { return b.Quality().RTCPMalformed == 1 }, ioTimeout, time.Millisecond,
		"a leg without the protector cannot read it")

	b.SetRTCPProtector(xorProtector{})
	a.fire()
	n.deliver(n.next())
	require.Eventually(t, func() bool { return b.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond,
		"unprotected, it reads as a report")
}

func TestRTCPFromStrangersIsDropped(t *testing.T) {
	n := newMemNet(t)
	a := n.leg("caller", "127.0.0.1:4000", "127.0.0.1:4001")
	require.NoError(t, a.SetRemote(netip.MustParseAddrPort("127.0.0.1:5000"), PCMU(), 0))
	rr, err := (&rtcp.ReceiverReport{SSRC: 7}).Marshal()
	require.NoError(t, err)
	n.deliver(memPacket{from: netip.MustParseAddrPort("[::1]:5001"), to: netip.MustParseAddrPort("127.0.0.1:4001"), b: rr})
	n.deliver(memPacket{from: netip.MustParseAddrPort("127.0.0.1:6000"), to: netip.MustParseAddrPort("127.0.0.1:4000"), b: rr})
	n.deliver(memPacket{from: netip.MustParseAddrPort("127.0.0.1:5001"), to: netip.MustParseAddrPort("127.0.0.1:4001"), b: rr})
	require.Eventually(t, func() bool { return a.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond)
	require.EqualValues(t, 1, a.Quality().RTCPReceived, "only the peer's own report counts")
}

func TestRTCPGoesNowhereWithoutAPeer(t *testing.T) {
	n := newMemNet(t)
	a := n.leg("caller", "127.0.0.1:4000", "127.0.0.1:4001")
	a.fire()
	a.SetRTCPPeer(RTCPPeer{Mode: RTCPOff})
	require.NoError(t, a.SetRemote(netip.MustParseAddrPort("127.0.0.1:5000"), PCMU(), 0))
	a.fire()
	require.Empty(t, n.wire, "before SDP and to a peer taking no RTCP nothing is sent")
	require.Zero(t, a.Quality().RTCPSent)
	a.SetRTCPPeer(RTCPPeer{Addr: netip.MustParseAddrPort("127.0.0.1:7001")})
	p, _ := n.report(a)
	require.Equal(t, "127.0.0.1:7001", p.to.String(), "a=rtcp is honoured")
}

func TestRTCPIntervalIsRandomisedAroundTheMean(t *testing.T) {
	n := newMemNet(t)
	ft := &fakeTimer{}
	l := NewLeg(n.listen("127.0.0.1:4000"), LegOptions{RTCP: RTCPOptions{Interval: 4 * time.Second, AfterFunc: ft.afterFunc}})
	for range 200 {
		ft.fire()
	}
	require.NoError(t, l.Close())
	ft.fire()
	require.Len(t, ft.waits, 201, "one report scheduled after another, none after Close")
	first := ft.waits[0]
	require.True(t, first >= time.Second && first <= 3*time.Second, "the first wait is half the interval, randomised: %s", first)
	lo, hi := slices.Min(ft.waits[1:]), slices.Max(ft.waits[1:])
	require.True(t, lo >= 2*time.Second && hi <= 6*time.Second, "[0.5, 1.5] of the interval: %s–%s", lo, hi)
	require.True(t, hi-lo > time.Second, "randomised: %s–%s", lo, hi)
}

// An SRTP leg's reports are SRTCP with its keys: its peer reads them with the mirrored
// keys, and a leg without them cannot.
func TestRTCPOfAnSRTPLegIsSRTCP(t *testing.T) {
	n := newMemNet(t)
	a := n.leg("caller", "127.0.0.1:4000", "127.0.0.1:4001")
	b := n.leg("phone", "127.0.0.1:5000", "127.0.0.1:5001")
	k := SRTPKeys{Profile: SRTPAES128SHA1_80, Local: make([]byte, 30), Remote: make([]byte, 30)}
	for i := range k.Local {
		k.Local[i], k.Remote[i] = byte(i), byte(100+i)
	}
	require.NoError(t, a.SetSRTP(k))
	require.NoError(t, a.SetRemote(netip.MustParseAddrPort("127.0.0.1:5000"), PCMU(), 0))
	require.NoError(t, b.SetRemote(netip.MustParseAddrPort("127.0.0.1:4000"), PCMU(), 0))

	a.fire()
	p := n.next()
	_, err := rtcp.Unmarshal(p.b)
	require.Error(t, err, "SRTCP on the wire, not RTCP")
	n.deliver(p)
	require.Eventually(t, func() bool { return b.Quality().RTCPMalformed == 1 }, ioTimeout, time.Millisecond,
		"a plain leg cannot read it")

	require.NoError(t, b.SetSRTP(SRTPKeys{Profile: k.Profile, Local: k.Remote, Remote: k.Local}))
	a.fire()
	n.deliver(n.next())
	require.Eventually(t, func() bool { return b.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond,
		"the peer with the keys reads the report")
	b.fire()
	n.deliver(n.next())
	require.Eventually(t, func() bool { return a.Quality().RTCPReceived == 1 }, ioTimeout, time.Millisecond,
		"and its own SRTCP reaches the leg")
	require.Zero(t, a.Quality().RTCPMalformed)
}
