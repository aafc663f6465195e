package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

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
