package media

import (
	crand "crypto/rand"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// DefaultRTCPInterval is RFC 3550's minimum mean interval between reports (§6.2): with two
// participants and a 64 kbit/s stream the bandwidth rule never asks for more.
const DefaultRTCPInterval = 5 * time.Second

// maxRTT bounds a believable round trip: a larger one comes from a peer echoing garbage.
const maxRTT = 10 * time.Second

// recentSRs is how many of its own sender reports a leg remembers, to check that a peer's
// report block echoes one of them before it takes a round trip from it.
const recentSRs = 8

// RTCPMode is how a peer takes RTCP.
type RTCPMode uint8

// RTCP modes, from the peer's session description.
const (
	// RTCPPortAbove: on a port of its own, the RTP port + 1 (RFC 3550 §11) unless
	// RTCPPeer.Addr names another (a=rtcp, RFC 3605).
	RTCPPortAbove RTCPMode = iota
	// RTCPMux: on the RTP port (a=rtcp-mux, RFC 5761).
	RTCPMux
	// RTCPOff: not at all; the peer is a relay of the gateway's own (a browser seat's
	// loopback hop).
	RTCPOff
)

// RTCPPeer is where a peer takes RTCP, as its session description says.
type RTCPPeer struct {
	Mode RTCPMode
	// Addr is the peer's a=rtcp address; invalid means its RTP address's port + 1.
	Addr netip.AddrPort
}

// RTCPOptions configure a leg's RTCP (RFC 3550 §6): the leg sends a report about every
// Interval, a sender report while it sends RTP with one report block about the stream it
// receives, and a BYE when it closes; it reads the peer's reports for their loss, jitter
// and round trip.
type RTCPOptions struct {
	// Conn is the leg's RTCP socket, the port above its RTP port; the leg owns and closes
	// it. Without one the leg sends and reads RTCP only multiplexed on its RTP port.
	Conn net.PacketConn
	// Interval is the mean time between reports (default DefaultRTCPInterval); each wait is
	// drawn from [0.5, 1.5] of it, and the first is halved (RFC 3550 §6.3.1, §6.2).
	Interval time.Duration
	// AfterFunc schedules the leg's next report; nil is time.AfterFunc. A timer rather
	// than a goroutine per leg: thousands of legs wait for their next report for free.
	// Tests fire reports through it.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// RTCPProtector wraps a leg's RTCP: SRTCP (RFC 3711) protects each compound packet the leg
// sends and unprotects each one it receives. Both append their result to dst.
type RTCPProtector interface {
	ProtectRTCP(dst, pkt []byte) ([]byte, error)
	UnprotectRTCP(dst, pkt []byte) ([]byte, error)
}

// rtcpSession is a leg's RTCP. Its mu is taken after the leg's mu or on its own, never
// while holding it to take another lock: figures of the streams are snapshot first.
type rtcpSession struct {
	leg       *Leg
	conn      net.PacketConn
	udp       addrPortConn
	interval  time.Duration
	afterFunc func(time.Duration, func()) func() bool
	cname     string
	running   sync.WaitGroup // a report being sent by the timer

	mu        sync.Mutex
	closed    bool        // no report is scheduled any more
	stopTimer func() bool // the pending report's
	peer      RTCPPeer
	latched   netip.AddrPort // where the peer's RTCP came from (symmetric RTCP, RFC 4961)
	latchedOf netip.AddrPort // the RTP remote that latch belongs to
	protector RTCPProtector
	srs       [recentSRs]uint32 // compact NTP times of the leg's recent sender reports
	srNext    int
	sentAt    [2]uint64 // RTP packets sent at the last two reports
	prior     struct {
		ssrc               uint32
		expected, received uint64
	}
	peerSR   uint32    // middle of the NTP time of the peer's last sender report
	peerSRAt time.Time // when it arrived
	q        peerQuality
}

// peerQuality is what the peer's reports said about the gateway's stream.
type peerQuality struct {
	reports, rttSamples       uint64
	lost                      uint64
	extHighest                uint32
	jitter                    uint32 // RTP timestamp units
	rtt                       time.Duration
	sent, received, malformed uint64
	bye                       bool
}

func (r *rtcpSession) init(l *Leg, o RTCPOptions) {
	r.leg, r.conn = l, o.Conn
	if r.conn != nil {
		r.udp, _ = r.conn.(addrPortConn)
	}
	r.interval = o.Interval
	if r.interval <= 0 {
		r.interval = DefaultRTCPInterval
	}
	r.afterFunc = o.AfterFunc
	if r.afterFunc == nil {
		r.afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	// RFC 7022: a random CNAME per session says nothing about the host
	r.cname = crand.Text()[:16]
}

// SetRTCPPeer applies where the peer takes RTCP (from its SDP); until it is called the
// leg sends RTCP to the RTP port + 1.
func (l *Leg) SetRTCPPeer(p RTCPPeer) {
	p.Addr = netip.AddrPortFrom(p.Addr.Addr().Unmap(), p.Addr.Port())
	l.rtcp.mu.Lock()
	defer l.rtcp.mu.Unlock()
	if p != l.rtcp.peer {
		l.rtcp.latched = netip.AddrPort{}
	}
	l.rtcp.peer = p
}

// SetRTCPProtector makes every RTCP packet of the leg pass through p (SRTCP); nil sends
// and takes plain RTCP.
func (l *Leg) SetRTCPProtector(p RTCPProtector) {
	l.rtcp.mu.Lock()
	defer l.rtcp.mu.Unlock()
	l.rtcp.protector = p
}

// start schedules the first report, after half the interval (RFC 3550 §6.2).
func (r *rtcpSession) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schedule(r.interval / 2)
}

// schedule arms the timer for a wait drawn from [0.5, 1.5] of mean; r.mu is held.
func (r *rtcpSession) schedule(mean time.Duration) {
	r.stopTimer = r.afterFunc(time.Duration(float64(mean)*(0.5+rand.Float64())), r.fire)
}

// fire sends a report and schedules the next, unless the leg is closing.
func (r *rtcpSession) fire() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.running.Add(1)
	r.mu.Unlock()
	defer r.running.Done()
	r.send(false)
	r.mu.Lock()
	if !r.closed {
		r.schedule(r.interval)
	}
	r.mu.Unlock()
}

// readLoop reads the leg's RTCP socket until the leg closes.
func (r *rtcpSession) readLoop() {
	defer r.leg.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := readPacket(r.conn, r.udp, buf)
		if err != nil {
			select {
			case <-r.leg.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			r.leg.log.Warn("rtcp read failed; leg stops reading RTCP", "err", err)
			return
		}
		r.input(buf[:n], from, false, r.leg.now())
	}
}

// send builds and sends one compound report (with a BYE when the leg is closing).
func (r *rtcpSession) send(bye bool) {
	dest, mux, ok := r.destination()
	if !ok {
		return
	}
	b, err := r.build(r.leg.now(), bye)
	if err != nil {
		r.leg.log.Warn("rtcp report not built", "err", err)
		return
	}
	r.mu.Lock()
	prot := r.protector
	r.mu.Unlock()
	if prot != nil {
		if b, err = prot.ProtectRTCP(nil, b); err != nil {
			r.leg.log.Warn("rtcp report not protected", "err", err)
			return
		}
	}
	if mux {
		err = writePacket(r.leg.conn, r.leg.udp, b, dest)
	} else {
		err = writePacket(r.conn, r.udp, b, dest)
	}
	if err != nil {
		r.leg.log.Debug("rtcp report not sent", "dest", dest, "err", err)
		return
	}
	r.mu.Lock()
	r.q.sent++
	r.mu.Unlock()
	r.leg.m.rtcpSent.Inc()
}

// destination is where reports go now: nowhere before the peer's SDP, while it holds with
// no address, or when it takes no RTCP; its RTP address when it multiplexes; otherwise
// where its RTCP comes from, its a=rtcp address, or its RTP port + 1.
func (r *rtcpSession) destination() (dest netip.AddrPort, mux, ok bool) {
	l := r.leg
	l.mu.Lock()
	remote := l.remote
	l.mu.Unlock()
	l.out.mu.Lock()
	rtpDest := l.out.dest
	l.out.mu.Unlock()
	if !rtpDest.IsValid() {
		return netip.AddrPort{}, false, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.peer.Mode == RTCPOff:
		return netip.AddrPort{}, false, false
	case r.peer.Mode == RTCPMux:
		return rtpDest, true, true
	case r.conn == nil:
		return netip.AddrPort{}, false, false
	case r.latched.IsValid() && r.latchedOf == remote:
		return r.latched, false, true
	case r.peer.Addr.IsValid():
		return r.peer.Addr, false, true
	case remote.Port() < 65535:
		return netip.AddrPortFrom(remote.Addr(), remote.Port()+1), false, true
	}
	return netip.AddrPort{}, false, false
}

// build marshals a compound packet: a sender report if the leg sent RTP since the report
// before last (RFC 3550 §6.4), else a receiver report, each with a block about the stream
// it receives; then its CNAME, and a BYE when closing.
func (r *rtcpSession) build(now time.Time, bye bool) ([]byte, error) {
	l := r.leg
	l.mu.Lock()
	rs := l.rs
	l.mu.Unlock()
	o := &l.out
	o.mu.Lock()
	ssrc, sent, octets, ts, sentAt, started := o.ssrc, o.sent, o.octets, o.ts, o.sentAt, o.started
	o.mu.Unlock()

	r.mu.Lock()
	var blocks []rtcp.ReceptionReport
	if rs.started {
		blocks = []rtcp.ReceptionReport{r.block(&rs, now)}
	}
	weSent := started && sent > r.sentAt[0]
	r.sentAt = [2]uint64{r.sentAt[1], sent}
	var head rtcp.Packet = &rtcp.ReceiverReport{SSRC: ssrc, Reports: blocks}
	if weSent {
		ntp := ntpTime(now)
		rtpTime := ts
		if el := now.Sub(sentAt); el > 0 && el < time.Hour {
			rtpTime += uint32(el * SampleRate / time.Second)
		}
		head = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntp, RTPTime: rtpTime,
			PacketCount: uint32(sent), OctetCount: uint32(octets), Reports: blocks}
		r.srs[r.srNext%recentSRs] = compactNTP(ntp)
		r.srNext++
	}
	r.mu.Unlock()
	pkts := []rtcp.Packet{head, rtcp.NewCNAMESourceDescription(ssrc, r.cname)}
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{ssrc}})
	}
	return rtcp.Marshal(pkts)
}

// block is the report block about the received stream (RFC 3550 §6.4.1, appendix A.3).
func (r *rtcpSession) block(rs *recvStats, now time.Time) rtcp.ReceptionReport {
	expected, received := rs.expected(), rs.received
	if r.prior.ssrc != rs.ssrc || r.prior.expected > expected {
		r.prior.ssrc, r.prior.expected, r.prior.received = rs.ssrc, 0, 0
	}
	expInt, recInt := expected-r.prior.expected, sub(received, r.prior.received)
	var fraction uint8
	if expInt > recInt {
		fraction = uint8((expInt - recInt) << 8 / expInt)
	}
	r.prior.expected, r.prior.received = expected, received
	b := rtcp.ReceptionReport{SSRC: rs.ssrc, FractionLost: fraction,
		TotalLost: uint32(min(sub(expected, received), 0x7fffff)), LastSequenceNumber: rs.extHighest(),
		Jitter: uint32(rs.jitter)}
	// one peer per leg: its last sender report is echoed whatever SSRC it came under
	if !r.peerSRAt.IsZero() {
		b.LastSenderReport = r.peerSR
		b.Delay = uint32(now.Sub(r.peerSRAt) * 65536 / time.Second)
	}
	return b
}

// input takes one RTCP datagram from the leg's RTCP socket or, muxed, its RTP socket.
func (r *rtcpSession) input(pkt []byte, from netip.AddrPort, muxed bool, arrival time.Time) {
	if !r.accepts(from, muxed) {
		r.leg.m.rtcpForeign.Inc()
		return
	}
	r.mu.Lock()
	prot := r.protector
	r.mu.Unlock()
	if prot != nil {
		var err error
		if pkt, err = prot.UnprotectRTCP(nil, pkt); err != nil {
			r.malformed()
			return
		}
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil || len(pkts) == 0 {
		r.malformed()
		return
	}
	switch pkts[0].(type) {
	case *rtcp.SenderReport, *rtcp.ReceiverReport:
	default:
		// RFC 3550 appendix A.2: a compound packet starts with a report
		r.malformed()
		return
	}
	ours := r.leg.out.ssrc // set once at creation
	r.mu.Lock()
	r.q.received++
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.peerSR, r.peerSRAt = compactNTP(p.NTPTime), arrival
			r.blocks(p.Reports, ours, arrival)
		case *rtcp.ReceiverReport:
			r.blocks(p.Reports, ours, arrival)
		case *rtcp.Goodbye:
			r.q.bye = true
		}
	}
	r.mu.Unlock()
	r.leg.m.rtcpReceived.Inc()
}

func (r *rtcpSession) malformed() {
	r.mu.Lock()
	r.q.malformed++
	r.mu.Unlock()
	r.leg.m.rtcpMalformed.Inc()
}

// accepts applies the RTP leg's latching to RTCP: muxed, only from the RTP source or the
// SDP address; on the RTCP port, only from the peer's address (any port: NATs move it),
// whose source then receives the reports.
func (r *rtcpSession) accepts(from netip.AddrPort, muxed bool) bool {
	l := r.leg
	l.mu.Lock()
	have, remote, latched := l.haveRemote, l.remote, l.latched
	l.mu.Unlock()
	if !have || !from.IsValid() {
		return false
	}
	if muxed {
		return from == latched || from == remote
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ip := from.Addr()
	if ip != remote.Addr() && (!latched.IsValid() || ip != latched.Addr()) &&
		(!r.peer.Addr.IsValid() || ip != r.peer.Addr.Addr()) {
		return false
	}
	r.latched, r.latchedOf = from, remote
	return true
}

// blocks takes the report blocks about the leg's own stream; r.mu is held.
func (r *rtcpSession) blocks(rr []rtcp.ReceptionReport, ours uint32, arrival time.Time) {
	for _, b := range rr {
		if b.SSRC != ours {
			continue
		}
		r.q.reports++
		r.q.extHighest, r.q.jitter = b.LastSequenceNumber, b.Jitter
		// cumulative loss is a signed 24-bit field; duplicates make it negative
		if lost := b.TotalLost & 0xffffff; lost&0x800000 == 0 {
			r.q.lost = uint64(lost)
		} else {
			r.q.lost = 0
		}
		r.leg.m.peerJitter.Observe(float64(b.Jitter) / SampleRate)
		if b.LastSenderReport == 0 || !r.sentSR(b.LastSenderReport) {
			continue
		}
		// RFC 3550 §6.4.1: A − LSR − DLSR, in 1/65536 s. A peer that counts DLSR coarsely
		// on a fast path can overshoot A − LSR: that is a round trip of about nothing.
		rtt := int32(compactNTP(ntpTime(arrival)) - b.LastSenderReport - b.Delay)
		d := time.Duration(max(rtt, 0)) * time.Second / 65536
		if d > maxRTT {
			continue
		}
		r.q.rtt = d
		r.q.rttSamples++
		r.leg.m.rtt.Observe(d.Seconds())
	}
}

// sentSR reports whether lsr is one of the leg's recent sender reports; r.mu is held.
func (r *rtcpSession) sentSR(lsr uint32) bool {
	for _, s := range r.srs {
		if s == lsr {
			return true
		}
	}
	return false
}

// quality fills in the peer's view and the round trip. The gaps the leg relayed are
// taken off the peer's loss as they stand now, so a gap after the peer's last report
// can take off a little too much.
func (r *rtcpSession) quality(q *Quality, sent, gaps uint64, first uint16) {
	r.mu.Lock()
	p := r.q
	r.mu.Unlock()
	q.PeerReports, q.RTT, q.RTTSamples = p.reports, p.rtt, p.rttSamples
	q.RTCPSent, q.RTCPReceived, q.RTCPMalformed, q.PeerBye = p.sent, p.received, p.malformed, p.bye
	if p.reports == 0 {
		return
	}
	q.PeerJitter = time.Duration(p.jitter) * time.Second / SampleRate
	// the peer's extended sequence numbers start their cycle count at its first packet,
	// which is the leg's first unless the stream began with a loss across a wrap
	expected := int64(p.extHighest) - int64(first) + 1
	if expected <= 0 || expected > int64(sent+gaps)+maxSeqJump {
		expected = int64(sent + gaps)
	}
	q.PeerExpected = sub(uint64(expected), gaps)
	q.PeerLost = min(sub(p.lost, gaps), q.PeerExpected)
}

// closing stops the reports, sends the leg's BYE last, and records its final quality.
func (r *rtcpSession) closing() {
	r.mu.Lock()
	r.closed = true
	if r.stopTimer != nil {
		r.stopTimer()
	}
	r.mu.Unlock()
	r.running.Wait()
	r.send(true)
	q := r.leg.Quality()
	if q.Measured() {
		r.leg.m.mos.Observe(q.MOS())
		r.leg.m.loss.Observe(max(q.LossFraction(), q.PeerLossFraction()))
	}
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32-bit fraction).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	sec := uint64(t.Unix() + unixToNTP)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// compactNTP is the middle 32 bits of an NTP timestamp, RTCP's LSR unit (1/65536 s).
func compactNTP(ntp uint64) uint32 { return uint32(ntp >> 16) }

// readPacket reads one datagram, through the allocation-free path when conn has one.
func readPacket(conn net.PacketConn, udp addrPortConn, buf []byte) (int, netip.AddrPort, error) {
	if udp != nil {
		n, from, err := udp.ReadFromUDPAddrPort(buf)
		return n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), err
	}
	n, addr, err := conn.ReadFrom(buf)
	if err != nil {
		return n, netip.AddrPort{}, err
	}
	ap, perr := netip.ParseAddrPort(addr.String())
	if perr != nil {
		return n, netip.AddrPort{}, nil
	}
	return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

func writePacket(conn net.PacketConn, udp addrPortConn, b []byte, to netip.AddrPort) error {
	var err error
	if udp != nil {
		_, err = udp.WriteToUDPAddrPort(b, to)
	} else {
		_, err = conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	return err
}
