package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/stretchr/testify/require"
)

func FuzzParseDTMF(f *testing.F) {
	f.Add([]byte{5, 0x8a, 0x03, 0x20})
	f.Add([]byte{1, 2})
	f.Add([]byte{255, 255, 255, 255, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseDTMF(b)
		if err != nil {
			require.Less(t, len(b), 4)
			return
		}
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]} // the reserved bit is not kept
		require.Equal(t, want, AppendDTMF(nil, ev))
	})
}

// FuzzLegPackets feeds arbitrary datagrams to a bridged leg's receive path, from the
// latched peer and from a stranger: nothing may panic and every packet is accounted for.
func FuzzLegPackets(f *testing.F) {
	f.Add(rtpPacket(0, false, 1, 160, 9, make([]byte, 160)), false)
	f.Add(rtpPacket(101, true, 2, 320, 9, []byte{5, 0x80, 0, 160}), false)
	f.Add(append(rtpPacket(0, false, 3, 480, 9, []byte{1, 2, 3, 0, 0, 3}), 0), true)
	padded := rtpPacket(0, false, 4, 640, 9, []byte{1, 2, 0, 3})
	padded[0] |= 0x20
	f.Add(padded, false)
	ext := rtpPacket(0, false, 5, 800, 9, []byte{0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 7})
	ext[0] |= 0x10
	f.Add(ext, false)
	f.Add([]byte{0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)

	clock := NewManualClock()
	pa, pb := newPeer(f), newPeer(f)
	a := newLoopbackLeg(f, LegOptions{Name: "caller"})
	b := newLoopbackLeg(f, LegOptions{Name: "agent"})
	require.NoError(f, a.SetRemote(pa.addr(), PCMU(), 101))
	require.NoError(f, b.SetRemote(pb.addr(), PCMA(), 96))
	br := NewBridge(a, b, BridgeOptions{Clock: clock, TapA: newFrameSink("a"), OnDTMF: func(string, rune, time.Duration) {}})
	require.NoError(f, br.Start())
	f.Cleanup(func() { _ = br.Close() })
	stranger := netip.MustParseAddrPort("127.0.0.1:9")

	f.Fuzz(func(t *testing.T, pkt []byte, foreign bool) {
		from := pa.addr()
		if foreign {
			from = stranger
		}
		before := a.Stats()
		a.handle(pkt, from)
		clock.Tick()
		after := a.Stats()
		moved := (after.PacketsIn - before.PacketsIn) + (after.Malformed - before.Malformed) +
			(after.ForeignSource - before.ForeignSource) + (after.Duplicates - before.Duplicates) +
			(after.Late - before.Late)
		if len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223 {
			require.Zero(t, moved, "multiplexed RTCP is ignored")
			return
		}
		require.GreaterOrEqual(t, moved, uint64(1), "every packet is counted somewhere")
	})
}

// FuzzWindow drives the reorder window with arbitrary timestamps, sizes and tick order.
func FuzzWindow(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 161, 0, 0, 0, 160, 161, 0, 0, 1, 64, 160})
	f.Add([]byte{255, 255, 255, 0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		w := newWindow(DefaultJitter)
		payload := make([]byte, 256)
		for len(ops) >= 5 {
			ts := binary.BigEndian.Uint32(ops)
			n := int(ops[4])
			w.insert(ts, payload[:n], PCMA())
			if n&1 == 1 {
				require.Len(t, w.next(), FrameSamples)
			}
			ops = ops[5:]
		}
	})
}

// FuzzRecvStats checks the sequence tracker's loss accounting never exceeds what the
// numbers allow.
func FuzzRecvStats(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 2, 0, 9, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s recvStats
		var n uint64
		for len(b) >= 2 {
			s.update(1, binary.BigEndian.Uint16(b))
			n++
			b = b[2:]
		}
		require.LessOrEqual(t, s.dups, n)
	})
}

// FuzzRTCP feeds arbitrary datagrams to a leg's RTCP input, from its RTCP socket and
// multiplexed on its RTP port: nothing may panic, and the quality the leg reports stays
// within what the numbers allow.
func FuzzRTCP(f *testing.F) {
	const ours, lsr = 0x01020304, 0x11112222
	block := rtcp.ReceptionReport{SSRC: ours, FractionLost: 25, TotalLost: 10, LastSequenceNumber: 1 << 16,
		Jitter: 80, LastSenderReport: lsr, Delay: 65536}
	for _, pkts := range [][]rtcp.Packet{
		{&rtcp.SenderReport{SSRC: 9, NTPTime: 0xe0000000_00000000, RTPTime: 1, PacketCount: 50, OctetCount: 8000,
			Reports: []rtcp.ReceptionReport{block}}, rtcp.NewCNAMESourceDescription(9, "peer")},
		{&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{block}}},
		{&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: ours, TotalLost: 0xfffffe}}},
			&rtcp.Goodbye{Sources: []uint32{9}, Reason: "bye"}},
		{rtcp.NewCNAMESourceDescription(9, "sdes first")},
		{&rtcp.ReceiverReport{SSRC: 9}, &rtcp.ApplicationDefined{SSRC: 9, Name: "lxin", Data: []byte{1, 2, 3, 4}}},
	} {
		b, err := rtcp.Marshal(pkts)
		require.NoError(f, err)
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{0x80, 0xc9, 0, 1, 0, 0, 0, 9}, true)
	f.Add([]byte{0x81, 0xc8, 0xff, 0xff}, false)

	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pa := newPeer(f)
	l := NewLeg(listenLoopback(f), LegOptions{Name: "caller", Now: func() time.Time { return now },
		RTCP: RTCPOptions{Conn: listenLoopback(f)}})
	f.Cleanup(func() { _ = l.Close() })
	require.NoError(f, l.SetRemote(pa.addr(), PCMU(), 101))
	l.out.mu.Lock()
	l.out.ssrc = ours
	l.out.mu.Unlock()
	l.rtcp.mu.Lock()
	l.rtcp.srs[0] = lsr
	l.rtcp.mu.Unlock()
	rtcpFrom := netip.AddrPortFrom(pa.addr().Addr(), pa.addr().Port()+1)

	f.Fuzz(func(t *testing.T, pkt []byte, muxed bool) {
		before := l.Quality()
		if muxed && len(pkt) >= 2 {
			pkt[1] = 192 + pkt[1]%32
			l.handle(pkt, pa.addr())
		} else {
			l.rtcp.input(pkt, rtcpFrom, false, now)
		}
		q := l.Quality()
		require.LessOrEqual(t, q.PeerLost, q.PeerExpected)
		require.LessOrEqual(t, q.RTT, maxRTT)
		require.GreaterOrEqual(t, q.RTT, time.Duration(0))
		require.LessOrEqual(t, q.MOS(), 4.5)
		counted := q.Since(before)
		require.LessOrEqual(t, counted.RTCPReceived+counted.RTCPMalformed, uint64(1), "one datagram, one verdict")
	})
}
