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

	"lianxin/media/g722"
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

func newBenchCall(b *testing.B, clock *Clock, m *Metrics, dir string, i int, agent Codec) *benchCall {
	c := &benchCall{pa: newPeer(b), pb: newPeer(b), buf: make([]byte, 2048)}
	c.a = newLoopbackLeg(b, LegOptions{Name: "caller", Kind: "caller", Metrics: m})
	c.b = newLoopbackLeg(b, LegOptions{Name: "agent", Kind: "agent", Metrics: m})
	require.NoError(b, c.a.SetRemote(c.pa.addr(), PCMU(), 101))
	require.NoError(b, c.b.SetRemote(c.pb.addr(), agent, 101))
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
	if agent.isG722() {
		g722.NewEncoder().Encode(pb, upsample(pcm))
	} else {
		agent.Encode(pb, pcm)
	}
	c.pktA = rtpPacket(0, false, 1, 0, 0xa, pa)
	c.pktB = rtpPacket(agent.PayloadType, false, 1, 0, 0xb, pb)
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
// The agent legs speak PCMA (transcoded byte by byte from the callers' PCMU) or, with
// agent=G722, G.722 (transcoded through PCM both ways).
//
//	go test -run '^$' -bench BenchmarkCalls -benchtime 2000x ./media
func BenchmarkCalls(b *testing.B) {
	for _, tc := range []struct {
		n     int
		agent Codec
	}{{1, PCMA()}, {100, PCMA()}, {500, PCMA()}, {100, G722()}, {500, G722()}} {
		n := tc.n
		name := fmt.Sprintf("calls=%d", n)
		if tc.agent.isG722() {
			name += "/agent=G722"
		}
		b.Run(name, func(b *testing.B) {
			clock := NewManualClock()
			m := NewMetrics(nil)
			dir := b.TempDir()
			calls := make([]*benchCall, n)
			for i := range calls {
				calls[i] = newBenchCall(b, clock, m, dir, i, tc.agent)
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

// BenchmarkG722Transcode is the relay's G.722 work for one call, without sockets: one op
// is 20 ms both ways, a caller's µ-law packet to the seat's G.722 (decode, interpolate,
// encode) and the seat's G.722 packet to the caller's µ-law (decode, decimate, encode)
// plus the 16 kHz wideband tap's frame.
//
//	go test -run '^$' -bench G722Transcode -benchtime 20000x ./media
func BenchmarkG722Transcode(b *testing.B) {
	speech := loadSpeech(b)
	wideCodes := make([]byte, len(speech))
	g722.NewEncoder().Encode(wideCodes, upsample(speech))
	ulaw := make([]byte, len(speech))
	PCMU().Encode(ulaw, speech)
	toSeat := outStream{codec: G722()}
	toCaller := outStream{codec: PCMU()}
	rx := &rxCodec{}
	rx.setCodec(G722())
	rx.tap = discard{}
	dst := make([]byte, FrameSamples)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		off := (i * FrameSamples) % (len(speech) - FrameSamples)
		toSeat.convert(dst, &inAudio{codec: PCMU(), payload: ulaw[off : off+FrameSamples]})
		in := inAudio{codec: G722(), payload: wideCodes[off : off+FrameSamples]}
		in.narrow, in.wide = rx.decode(in.codec, in.payload)
		rx.push(in.wide)
		toCaller.convert(dst, &in)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric((per*3000).Seconds()*1000, "cpu-ms/call-min")
}

type discard struct{}

func (discard) WriteFrame(Frame) error { return nil }
func (discard) String() string         { return "discard" }
