package media

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// ErrBridged reports that Play stopped because a bridge took the leg over.
var ErrBridged = errors.New("media: leg bridged")

// ErrNoRemote reports sending on a leg before SetRemote.
var ErrNoRemote = errors.New("media: leg has no remote address yet")

// outStream is a leg's sending side: one RTP stream toward the peer with its own SSRC,
// sequence numbers and timestamps. Whatever feeds it (Play, then the relay of the other
// leg, a re-INVITEd peer with a new SSRC, or sipp replaying identical packets) is mapped
// onto that one continuous stream, so the far end never sees a source it does not expect.
type outStream struct {
	leg *Leg

	mu      sync.Mutex // never held while taking another lock
	dest    netip.AddrPort
	codec   Codec
	dtmfPT  uint8
	dir     Direction
	ssrc    uint32
	started bool
	seq     uint16    // last sequence number sent
	ts      uint32    // last timestamp sent
	sentAt  time.Time // when the last packet was sent
	src     *Leg      // current source of relayed packets; nil while playing
	srcSSRC uint32
	srcPlay bool
	seqOff  uint16
	tsOff   uint32
	sent    uint64
	octets  uint64 // payload octets sent (RFC 3550 SR sender's octet count)
	// gaps counts sequence numbers this stream skipped because the relayed leg's own
	// packets never arrived: the peer's RTCP counts them lost, but not on this leg.
	gaps     uint64
	gapMax   uint16 // highest sequence number sent
	gapFirst uint16 // the first sequence number sent
	gapInit  bool
	srtp     *SRTP    // nil: plain RTP
	tx       *txCodec // toward a G.722 peer; nil until one is configured
	buf      [1500]byte
}

func (o *outStream) init(l *Leg) {
	o.leg = l
	o.ssrc = rand.Uint32()
	o.seq = uint16(rand.Uint32())
	o.ts = rand.Uint32()
}

func (o *outStream) configure(dest netip.AddrPort, c Codec, dtmfPT uint8) {
	o.mu.Lock()
	if c.isG722() && !o.codec.isG722() && o.tx != nil {
		// a peer switching to G.722 decodes from the reset state: encode from it too
		o.tx.enc.Reset()
	}
	o.dest, o.codec, o.dtmfPT = dest, c, dtmfPT
	o.mu.Unlock()
}

func (o *outStream) setDest(dest netip.AddrPort) {
	o.mu.Lock()
	o.dest = dest
	o.mu.Unlock()
}

func (o *outStream) setDirection(d Direction) {
	o.mu.Lock()
	o.dir = d
	o.mu.Unlock()
}

func (o *outStream) sentCount() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent
}

// relay forwards one packet of leg src to this stream's peer: PT rewritten to what this
// peer negotiated (events dropped if it has no telephone-event), audio converted when the
// peer's codec differs (G.711 law to law byte by byte, G.722 through PCM), and
// SSRC/sequence/timestamp mapped onto this stream. Every codec here keeps one byte per
// 8 kHz timestamp unit, so the packet keeps its length and timing.
func (o *outStream) relay(src *Leg, h *rtp.Header, in *inAudio, isDTMF bool, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	payload := in.payload
	if !o.dest.IsValid() || !o.dir.Sends() || len(payload) > len(o.buf)-12 {
		return
	}
	pt := o.codec.PayloadType
	if isDTMF {
		if o.dtmfPT == 0 {
			return
		}
		pt = o.dtmfPT
	}
	marker := h.Marker
	if !o.started || o.srcPlay || o.src != src || o.srcSSRC != h.SSRC {
		o.rebase(h.SequenceNumber, h.Timestamp, now)
		o.src, o.srcSSRC, o.srcPlay = src, h.SSRC, false
		marker = true
	}
	seq := h.SequenceNumber + o.seqOff
	ts := h.Timestamp + o.tsOff
	n := len(payload)
	if isDTMF || sameFormat(in.codec, o.codec) {
		copy(o.buf[12:], payload)
	} else {
		n = o.convert(o.buf[12:12+len(payload)], in)
	}
	o.send(pt, marker, seq, ts, n, now)
}

// countGap notes the sequence numbers a packet skips over (the relayed leg lost them),
// and a late packet filling a gap counted before.
func (o *outStream) countGap(seq uint16) {
	if !o.gapInit {
		o.gapMax, o.gapFirst, o.gapInit = seq, seq, true
		return
	}
	switch d := int16(seq - o.gapMax); {
	case d > 0:
		o.gaps += uint64(d - 1)
		o.gapMax = seq
	case d < 0 && o.gaps > 0:
		o.gaps--
	}
}

// sameFormat reports whether a payload of codec a is already one of codec b.
func sameFormat(a, b Codec) bool { return a.law() == b.law() && a.isG722() == b.isG722() }

// rebase maps a new source's numbering so it continues this stream: the next sequence
// number, and a timestamp advanced by the wall time since the last packet (at least one
// frame), as RFC 3550 §5.1 expects across a source change.
func (o *outStream) rebase(inSeq uint16, inTS uint32, now time.Time) {
	next := o.seq + 1
	adv := uint32(FrameSamples)
	if o.started {
		if el := now.Sub(o.sentAt); el > FrameDuration && el < time.Hour {
			adv = uint32(el * SampleRate / time.Second)
		}
	}
	o.seqOff = next - inSeq
	o.tsOff = o.ts + adv - inTS
}

// send writes the header into o.buf before the payload already there and sends it.
func (o *outStream) send(pt uint8, marker bool, seq uint16, ts uint32, n int, now time.Time) {
	b := o.buf[:12+n]
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], o.ssrc)
	o.countGap(seq)
	b, err := o.protect(b)
	switch u := o.leg.udp; {
	case err != nil:
	case u != nil:
		_, err = u.WriteToUDPAddrPort(b, o.dest)
	default:
		_, err = o.leg.conn.WriteTo(b, net.UDPAddrFromAddrPort(o.dest))
	}
	// Advance even on a send error: the far end must see the gap as loss, not reordering.
	o.started, o.seq, o.ts, o.sentAt = true, seq, ts, now
	if err != nil {
		return
	}
	o.sent++
	o.octets += uint64(n)
	o.leg.m.sent.Inc()
}

// play sends one frame of 8 kHz PCM (at most FrameSamples), encoded in the peer's codec
// (interpolated to 16 kHz for G.722), as the next packet of the stream.
func (o *outStream) play(pcm []int16) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.dest.IsValid() {
		return ErrNoRemote
	}
	if !o.dir.Sends() {
		return nil
	}
	now := o.leg.now()
	marker := !o.started || !o.srcPlay
	seq, ts := o.seq+1, o.ts+FrameSamples
	if o.started && !o.srcPlay {
		o.rebase(0, 0, now)
		seq, ts = o.seqOff, o.tsOff
	}
	o.srcPlay, o.src = true, nil
	var n int
	if o.codec.isG722() {
		if o.tx == nil {
			o.tx = newTxCodec()
		}
		n = o.tx.encodeNarrow(o.buf[12:12+FrameSamples], pcm)
	} else {
		n = o.codec.Encode(o.buf[12:12+FrameSamples], pcm)
	}
	o.send(o.codec.PayloadType, marker, seq, ts, n, now)
	return nil
}

// Play sends pcm (mono, 8 kHz) to the peer as 20 ms packets in the leg's codec, in real
// time: hold music or an announcement before the call is bridged. It returns nil when pcm
// has been played (never, with loop, unless pcm is empty), the context's cause when ctx
// ends, ErrBridged when a bridge takes the leg over, ErrClosed when the leg closes, and
// ErrNoRemote before SetRemote. While the gateway does not send to the peer (hold) the
// audio runs on silently. A leg whose bridge has closed plays again.
func (l *Leg) Play(ctx context.Context, pcm []int16, loop bool) error {
	bridged := l.bridgedCh()
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	for pos := 0; ; pos += FrameSamples {
		if pos >= len(pcm) {
			if !loop || len(pcm) == 0 {
				return nil
			}
			pos = 0
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-bridged:
			return ErrBridged
		case <-l.done:
			return ErrClosed
		default:
		}
		var frame [FrameSamples]int16
		copy(frame[:], pcm[pos:min(pos+FrameSamples, len(pcm))])
		if err := l.out.play(frame[:]); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-bridged:
			return ErrBridged
		case <-l.done:
			return ErrClosed
		case <-t.C:
		}
	}
}
