package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// ErrClosed reports use of a closed Leg, Bridge, Fanout or Recorder.
var ErrClosed = errors.New("media: closed")

// cnPayloadType is RFC 3389 comfort noise: accepted (it keeps a source latched and alive)
// but neither relayed nor tapped, since the other leg did not negotiate it.
const cnPayloadType = 13

// jitterSampleEvery is how many audio packets pass between two jitter histogram samples.
const jitterSampleEvery = 50

// LegOptions configures a Leg.
type LegOptions struct {
	// Name identifies the leg in logs and DTMF reports, e.g. "caller" or "agent".
	Name string
	// Kind is the leg label of the metrics; keep it to a few values ("caller", "agent").
	Kind string
	// Logger receives the leg's logs; nil discards them.
	Logger *slog.Logger
	// Metrics receives the leg's counters; nil keeps them unregistered.
	Metrics *Metrics
	// Now is the time source for arrival times, jitter and inactivity; nil is time.Now.
	Now func() time.Time
	// RTCP is the leg's RTCP socket and report timing (rtcp.go).
	RTCP RTCPOptions
}

// LegStats are a leg's counters since it was created.
type LegStats struct {
	// PacketsIn counts accepted packets (audio, events and comfort noise).
	PacketsIn uint64
	// PacketsOut counts packets sent to the peer (relayed and played).
	PacketsOut uint64
	// Lost counts sequence numbers never received.
	Lost uint64
	// Late counts audio packets that came after the tap had played their frame, or more
	// than 64 packets out of order. Late packets were still relayed unless that old.
	Late uint64
	// Duplicates counts packets whose sequence number was already received (not relayed).
	Duplicates uint64
	// ForeignSource counts packets from an address other than the latched one.
	ForeignSource uint64
	// Malformed counts packets that are not RTP v2 or carry an unnegotiated payload type.
	Malformed uint64
	// Unauthenticated counts packets of an SRTP leg that failed authentication (a wrong
	// key, a forgery, plain RTP) or were replayed.
	Unauthenticated uint64
	// DTMF counts telephone-events reported (one per key press).
	DTMF uint64
	// Jitter is the RFC 3550 interarrival jitter estimate.
	Jitter time.Duration
	// Source is the latched peer address (invalid until the first packet).
	Source netip.AddrPort
	// LastPacket is when the last packet was accepted (zero if none).
	LastPacket time.Time
}

// Leg is one RTP endpoint of the gateway toward one peer: it owns its socket, validates and
// latches incoming packets (symmetric RTP), keeps receive statistics, and sends to the peer
// what a Bridge relays or Play plays. Create it with NewLeg, configure it from SDP with
// SetRemote and SetDirection, and Close it when the dialog ends.
type Leg struct {
	name  string
	log   *slog.Logger
	m     *legMetrics
	now   func() time.Time
	conn  net.PacketConn
	udp   addrPortConn // conn's allocation-free fast path, when it has one
	local netip.AddrPort

	mu         sync.Mutex // receive side; may be held while taking any leg's out.mu
	haveRemote bool
	remote     netip.AddrPort
	latched    netip.AddrPort
	codec      Codec
	dtmfPT     uint8
	dir        Direction
	srtp       *SRTP // nil: plain RTP
	hdr        rtp.Header
	rs         recvStats
	dtmf       dtmfTracker
	peer       *Leg
	tap        *window
	rx         *rxCodec // G.722 decoding and the wideband tap; nil for a plain G.711 leg
	onDTMF     func(leg string, digit rune, d time.Duration)
	lastRx     time.Time
	stats      LegStats
	audioCount uint64

	out  outStream
	rtcp rtcpSession

	bridged   chan struct{} // closed when a bridge takes the leg over; new once it lets go
	heard     chan struct{} // closed when the first valid packet latches a source
	wasHeard  bool          // heard is closed (under mu)
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// NewLeg takes ownership of conn (closed by Close) and starts reading it. Packets that
// arrive before SetRemote are dropped as malformed: without SDP no payload type is valid.
func NewLeg(conn net.PacketConn, opts LegOptions) *Leg {
	if opts.Name == "" {
		opts.Name = "leg"
	}
	if opts.Kind == "" {
		opts.Kind = opts.Name
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Leg{
		name:    opts.Name,
		log:     opts.Logger.With("leg", opts.Name),
		m:       opts.Metrics.forLeg(opts.Kind),
		now:     opts.Now,
		conn:    conn,
		bridged: make(chan struct{}),
		heard:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	l.udp, _ = conn.(addrPortConn)
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		l.local = ua.AddrPort()
	}
	l.out.init(l)
	l.rtcp.init(l, opts.RTCP)
	l.wg.Add(1)
	go l.readLoop()
	l.rtcp.start()
	if l.rtcp.conn != nil {
		l.wg.Add(1)
		go l.rtcp.readLoop()
	}
	return l
}

// String names the leg.
func (l *Leg) String() string { return fmt.Sprintf("leg(%s %s)", l.name, l.local) }

// Name is the leg's name from LegOptions.
func (l *Leg) Name() string { return l.name }

// OnDTMF sets the function told of each key the peer presses (RFC 4733) while the leg is
// not bridged (a bridge reports keys through its own options): an IVR or a survey on a
// leg of its own.
func (l *Leg) OnDTMF(f func(leg string, digit rune, d time.Duration)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onDTMF = f
}

// bridgedCh is the channel a bridge closes when it takes the leg over.
func (l *Leg) bridgedCh() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bridged
}

// Heard is closed when the peer's first valid RTP packet arrives and the leg latches its
// source: from then on the leg sends only to an address that has sent to it.
func (l *Leg) Heard() <-chan struct{} { return l.heard }

// LocalAddr is the address the leg receives on (what the SDP offer or answer advertises).
func (l *Leg) LocalAddr() netip.AddrPort { return l.local }

// SetRemote applies the peer's SDP: where it receives, its audio codec and its
// telephone-event payload type (0: none negotiated). A changed address drops the latch so
// the peer's new source is learnt afresh (re-INVITE to a new media address). An
// unspecified address or port 0 (the old c=0.0.0.0 hold, a rejected stream) stops sending
// to the peer until the next SetRemote, keeping the latch and receiving as before.
func (l *Leg) SetRemote(addr netip.AddrPort, codec Codec, dtmfPT uint8) error {
	if err := codec.validate(); err != nil {
		return err
	}
	if dtmfPT > 127 || (dtmfPT != 0 && dtmfPT == codec.PayloadType) {
		return fmt.Errorf("media: bad telephone-event payload type %d", dtmfPT)
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setCodec(codec)
	l.haveRemote, l.codec, l.dtmfPT = true, codec, dtmfPT
	if !addr.Addr().IsValid() || addr.Addr().IsUnspecified() || addr.Port() == 0 {
		l.out.configure(netip.AddrPort{}, codec, dtmfPT)
		l.log.Debug("remote on hold", "addr", addr, "codec", codec)
		return nil
	}
	if addr != l.remote {
		l.latched = netip.AddrPort{}
	}
	l.remote = addr
	dest := addr
	if l.latched.IsValid() {
		dest = l.latched
	}
	l.out.configure(dest, codec, dtmfPT)
	l.log.Debug("remote set", "addr", addr, "codec", codec, "dtmf_pt", dtmfPT)
	return nil
}

// SetDirection applies a hold or resume (from the gateway's point of view): nothing is
// sent to a peer the gateway does not send to, and nothing a peer sends is relayed while
// the gateway does not receive from it. The call itself is untouched.
func (l *Leg) SetDirection(d Direction) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dir = d
	l.out.setDirection(d)
	l.log.Debug("direction set", "direction", d)
}

// Direction is the leg's current direction.
func (l *Leg) Direction() Direction {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dir
}

// Stats returns the leg's counters.
func (l *Leg) Stats() LegStats {
	l.mu.Lock()
	s := l.stats
	s.Lost = l.rs.totalLost()
	s.Duplicates = l.rs.dups
	s.Late += l.rs.tooOld
	if l.tap != nil {
		s.Late += l.tap.late
	}
	s.Jitter = l.rs.jitterDuration(SampleRate)
	s.Source = l.latched
	s.LastPacket = l.lastRx
	l.mu.Unlock()
	s.PacketsOut = l.out.sentCount()
	return s
}

// Close sends the peer an RTCP BYE, stops the leg, closes its sockets and waits for its
// goroutines; it is idempotent.
func (l *Leg) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.rtcp.closing()
		close(l.done)
		err = l.conn.Close()
		if l.rtcp.conn != nil {
			err = errors.Join(err, l.rtcp.conn.Close())
		}
		l.wg.Wait()
	})
	return err
}

func (l *Leg) readLoop() {
	defer l.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := l.read(buf)
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.log.Warn("rtp read failed; leg stops receiving", "err", err)
			return
		}
		l.handle(buf[:n], from)
	}
}

func (l *Leg) read(buf []byte) (int, netip.AddrPort, error) {
	return readPacket(l.conn, l.udp, buf)
}

// handle runs the receive path for one datagram; it must not allocate for valid packets.
func (l *Leg) handle(pkt []byte, from netip.AddrPort) {
	arrival := l.now()
	var evs [2]DTMFEvent
	var nev int
	if len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223 {
		// RTCP multiplexed on the RTP port (RFC 5761 §4): not media, not malformed.
		l.rtcp.input(pkt, from, true, arrival)
		return
	}
	l.mu.Lock()
	pkt, ok := l.unprotect(pkt)
	if !ok {
		l.mu.Unlock()
		return
	}
	payload, ok := l.parse(pkt)
	if !ok {
		l.stats.Malformed++
		l.m.malformed.Inc()
		l.mu.Unlock()
		return
	}
	if !l.accept(from) {
		l.stats.ForeignSource++
		l.m.foreign.Inc()
		l.mu.Unlock()
		return
	}
	h := &l.hdr
	switch st, lost := l.rs.update(h.SSRC, h.SequenceNumber); st {
	case seqDuplicate:
		l.m.duplicate.Inc()
		l.mu.Unlock()
		return
	case seqTooOld:
		l.m.late.Inc()
		l.mu.Unlock()
		return
	default:
		if lost > 0 {
			l.m.lost.Add(float64(lost))
		}
	}
	l.stats.PacketsIn++
	l.m.received.Inc()
	l.lastRx = arrival
	isDTMF := l.dtmfPT != 0 && h.PayloadType == l.dtmfPT
	in := inAudio{codec: l.codec, payload: payload}
	switch {
	case isDTMF:
		ev, err := ParseDTMF(payload)
		if err != nil {
			l.stats.Malformed++
			l.m.malformed.Inc()
			l.mu.Unlock()
			return
		}
		if ev.Digit != 0 {
			evs, nev = l.dtmf.update(h.Timestamp, ev)
			l.stats.DTMF += uint64(nev)
		}
	case h.PayloadType == cnPayloadType:
		l.mu.Unlock()
		return
	default:
		in = l.audio(h.Timestamp, payload, arrival)
	}
	if l.peer != nil && l.dir.Receives() {
		l.peer.out.relay(l, h, &in, isDTMF, arrival)
		l.m.relayDelay.Observe(l.now().Sub(arrival).Seconds())
	}
	onDTMF := l.onDTMF
	l.mu.Unlock()
	if onDTMF != nil {
		for _, ev := range evs[:nev] {
			onDTMF(l.name, ev.Digit, ev.DurationAt(SampleRate))
		}
	}
}

// parse validates pkt as RTP v2 with a negotiated payload type; it returns the payload
// without padding. l.hdr holds the header afterwards.
func (l *Leg) parse(pkt []byte) ([]byte, bool) {
	if !l.haveRemote || len(pkt) < 12 || pkt[0]>>6 != 2 {
		return nil, false
	}
	n, err := l.hdr.Unmarshal(pkt)
	if err != nil || n > len(pkt) {
		return nil, false
	}
	payload := pkt[n:]
	if l.hdr.Padding {
		if len(payload) == 0 {
			return nil, false
		}
		p := int(payload[len(payload)-1])
		if p == 0 || p > len(payload) {
			return nil, false
		}
		payload = payload[:len(payload)-p]
	}
	pt := l.hdr.PayloadType
	if pt != l.codec.PayloadType && pt != cnPayloadType && (l.dtmfPT == 0 || pt != l.dtmfPT) {
		return nil, false
	}
	if pt == l.codec.PayloadType && len(payload) == 0 {
		return nil, false
	}
	return payload, true
}

// accept applies latching: the first valid source is learnt (NAT-friendly); afterwards
// only it is accepted, except the SDP address itself, which always wins the latch back so
// that a stray early packet cannot capture the leg.
func (l *Leg) accept(from netip.AddrPort) bool {
	if l.latched == from {
		return true
	}
	if l.latched.IsValid() && from != l.remote {
		return false
	}
	if !l.wasHeard {
		// once only: a re-INVITE that moves the peer clears the latch, and the next
		// packet latches again
		l.wasHeard = true
		close(l.heard)
	}
	l.latched = from
	l.out.setDest(from)
	l.log.Debug("rtp source latched", "source", from, "sdp", l.remote)
	return true
}

// audio feeds one audio packet to jitter statistics, the decoder and the taps, and returns
// it as the relay takes it.
func (l *Leg) audio(ts uint32, payload []byte, arrival time.Time) inAudio {
	l.rs.updateJitter(ts, arrival, SampleRate)
	l.audioCount++
	if l.audioCount%jitterSampleEvery == 0 {
		l.m.jitter.Observe(l.rs.jitterDuration(SampleRate).Seconds())
	}
	in := inAudio{codec: l.codec, payload: payload}
	if l.rx != nil {
		in.narrow, in.wide = l.rx.decode(l.codec, payload)
		l.rx.push(in.wide)
	}
	if l.tap == nil {
		return in
	}
	var ok bool
	if in.narrow != nil {
		ok = l.tap.insertPCM(ts, in.narrow)
	} else {
		ok = l.tap.insert(ts, payload, l.codec)
	}
	if !ok {
		l.m.late.Inc()
	}
	return in
}
