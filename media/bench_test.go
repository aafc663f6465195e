package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchCall is one bridged, tapped and recorded call between two loopback peers.
type benchCall struct {
	pa, pb   *peer
	a, b     *Leg
	toA, toB netip.AddrPort
	pktA     []byte // what peer A sends (its seq/ts advanced in place)
	pktB     []byte
	buf      []byte
}

func newBenchCall(b *testing.B, clock *Clock, m *Metrics, dir string, i int) *benchCall {
	c := &benchCall{pa: newPeer(b), pb: newPeer(b), buf: make([]byte, 2048)}
	c.a = newLoopbackLeg(b, LegOptions{Name: "caller", Kind: "caller", Metrics: m})
	c.b = newLoopbackLeg(b, LegOptions{Name: "agent", Kind: "agent", Metrics: m})
	require.NoError(b, c.a.SetRemote(c.pa.addr(), PCMU(), 101))
	require.NoError(b, c.b.SetRemote(c.pb.addr(), PCMA(), 101))
	rec, err := NewRecorder(filepath.Join(dir, fmt.Sprintf("call-%d.wav", i)), RecorderOptions{})
	require.NoError(b, err)
	fa, fb := NewFanout("caller", FanoutOptions{Metrics: m}), NewFanout("agent", FanoutOptions{Metrics: m})
	fa.Add(rec.Caller(), 0)
	fb.Add(rec.Agent(), 0)
	br := NewBridge(c.a, c.b, BridgeOptions{Clock: clock, TapA: fa, TapB: fb})
	require.NoError(b, br.Start())
	b.Cleanup(func() {
		_ = br.Close()
		_ = fa.Close()
		_ = fb.Close()
		_ = rec.Close()
	})
	c.toA, c.toB = c.a.LocalAddr(), c.b.LocalAddr()
	pcm := testSignal(FrameSamples)
	pa, pb := make([]byte, FrameSamples), make([]byte, FrameSamples)
	PCMU().Encode(pa, pcm)
	PCMA().Encode(pb, pcm)
	c.pktA = rtpPacket(0, false, 1, 0, 0xa, pa)
	c.pktB = rtpPacket(8, false, 1, 0, 0xb, pb)
	return c
}

func advance(pkt []byte) {
	binary.BigEndian.PutUint16(pkt[2:], binary.BigEndian.Uint16(pkt[2:])+1)
	binary.BigEndian.PutUint32(pkt[4:], binary.BigEndian.Uint32(pkt[4:])+FrameSamples)
}

func (c *benchCall) send(b *testing.B) {
	advance(c.pktA)
	advance(c.pktB)
	if _, err := c.pa.conn.WriteToUDPAddrPort(c.pktA, c.toA); err != nil {
		b.Fatal(err)
	}
	if _, err := c.pb.conn.WriteToUDPAddrPort(c.pktB, c.toB); err != nil {
		b.Fatal(err)
	}
}

func (c *benchCall) receive(b *testing.B) {
	for _, p := range []*peer{c.pb, c.pa} {
		if err := p.conn.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := p.conn.ReadFromUDPAddrPort(c.buf); err != nil {
			b.Fatal("relayed packet lost: ", err)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCalls relays N concurrent calls over loopback. One op is 20 ms of every call:
// each caller and each agent peer sends one packet, every relayed packet is received, and
// the shared clock ticks once (2N tap frames through fan-outs into N stereo recordings).
// cpu-s/call-min is the process's CPU (test peers' socket I/O included) per minute of one
// call; allocs/op are the whole op's.
//
//	go test -run '^$' -bench BenchmarkCalls -benchtime 2000x ./media
func BenchmarkCalls(b *testing.B) {
	for _, n := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			clock := NewManualClock()
			m := NewMetrics(nil)
			dir := b.TempDir()
			calls := make([]*benchCall, n)
			for i := range calls {
				calls[i] = newBenchCall(b, clock, m, dir, i)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				for _, c := range calls {
					c.send(b)
				}
				for _, c := range calls {
					c.receive(b)
				}
				clock.Tick()
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			pkts := float64(b.N) * float64(n) * 2
			b.ReportMetric(pkts/b.Elapsed().Seconds(), "pkts/s")
			// One op is 20 ms of n calls: 3000 ops make a call-minute.
			b.ReportMetric(cpu.Seconds()/float64(b.N)/float64(n)*3000, "cpu-s/call-min")
		})
	}
}

// BenchmarkRelayPacket is one packet from peer A through both legs to peer B (no taps):
// the relay path's cost and allocations.
func BenchmarkRelayPacket(b *testing.B) {
	pa, pb := newPeer(b), newPeer(b)
	a := newLoopbackLeg(b, LegOptions{Name: "caller"})
	l := newLoopbackLeg(b, LegOptions{Name: "agent"})
	require.NoError(b, a.SetRemote(pa.addr(), PCMU(), 101))
	require.NoError(b, l.SetRemote(pb.addr(), PCMA(), 101))
	br := NewBridge(a, l, BridgeOptions{Clock: NewManualClock()})
	require.NoError(b, br.Start())
	defer br.Close()
	pkt := rtpPacket(0, false, 1, 0, 7, make([]byte, FrameSamples))
	buf := make([]byte, 2048)
	to := a.LocalAddr()
	b.ReportAllocs()
	for b.Loop() {
		advance(pkt)
		if _, err := pa.conn.WriteToUDPAddrPort(pkt, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := pb.conn.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}
