package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/stretchr/testify/require"
)

// BenchmarkRTCPReport is one leg's RTCP work for one report interval: building and
// sending its sender report (SR, report block, SDES) on a real loopback socket, and
// reading the peer's receiver report about its stream. A call has two legs and a report
// every 5 s each way, so a call-minute costs 24 of these.
//
//	go test -run '^$' -bench RTCPReport -benchmem ./media
func BenchmarkRTCPReport(b *testing.B) {
	p, pr := newPeer(b), newPeer(b)
	l := NewLeg(listenLoopback(b), LegOptions{Name: "caller", RTCP: RTCPOptions{Conn: listenLoopback(b)}})
	b.Cleanup(func() { _ = l.Close() })
	require.NoError(b, l.SetRemote(p.addr(), PCMU(), 101))
	l.SetRTCPPeer(RTCPPeer{Addr: pr.addr()}) // the peer's socket drops what it is not read
	for range 50 {
		require.NoError(b, l.out.play(make([]int16, FrameSamples)))
	}
	p.sendAudio(l.LocalAddr(), PCMU(), make([]int16, 50*FrameSamples))
	require.Eventually(b, func() bool { return l.Stats().PacketsIn == 50 }, ioTimeout, time.Millisecond)

	// the peer's receiver report about the leg's stream, as baresip sends it; each
	// iteration echoes the sender report just sent
	rr, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 0x1234, Reports: []rtcp.ReceptionReport{{SSRC: l.out.ssrc,
			LastSequenceNumber: 50, Jitter: 8, Delay: 100}}},
		rtcp.NewCNAMESourceDescription(0x1234, "peer@127.0.0.1")})
	require.NoError(b, err)
	const lsrAt = 8 + 16 // RR header and SSRC, then the block's SSRC, loss, sequence and jitter
	from := netip.AddrPortFrom(p.addr().Addr(), p.addr().Port()+1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		l.rtcp.send(false)
		l.rtcp.mu.Lock()
		binary.BigEndian.PutUint32(rr[lsrAt:], l.rtcp.srs[(l.rtcp.srNext-1)%recentSRs])
		l.rtcp.mu.Unlock()
		l.rtcp.input(rr, from, false, time.Now())
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	require.EqualValues(b, b.N, l.Quality().RTTSamples)
	b.ReportMetric(cpu.Seconds()/float64(b.N)*24, "cpu-s/call-min")
}
