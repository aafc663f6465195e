package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBridgeTapsAlignReorderCountAndConceal(t *testing.T) {
	clock := NewManualClock()
	tapA, tapB := newFrameSink("tap-a"), newFrameSink("tap-b")
	x := newBridged(t, bridgeSetup{opts: BridgeOptions{
		Clock: clock, TapA: tapA, TapB: tapB, Jitter: 60 * time.Millisecond,
	}})
	send := func(i int, wait bool) {
		x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(0, false, uint16(100+i), uint32(i*FrameSamples), 42, frameOf(int16(1000*(i+1)))))
		if wait {
			x.pb.recv() // relayed, so the leg has processed it
		}
	}
	send(0, true)
	send(1, true)
	send(3, true)
	send(2, true)  // reordered
	send(2, false) // duplicate: neither relayed nor tapped
	send(5, true)  // 4 is missing
	for range 9 {
		clock.Tick()
	}
	send(4, true) // too late for the tap, still relayed
	send(7, true) // 6 never comes
	clock.Tick()

	fa, fb := tapA.snapshot(), tapB.snapshot()
	require.Len(t, fa, 10)
	require.Len(t, fb, 10)
	var levels []int16
	for i := range fa {
		require.Equal(t, time.Duration(i)*FrameDuration, fa[i].Offset)
		require.Equal(t, fa[i].Offset, fb[i].Offset, "both legs on one timeline")
		require.Equal(t, SampleRate, fa[i].Rate)
		require.Len(t, fa[i].Samples, FrameSamples)
		require.Equal(t, make([]int16, FrameSamples), fb[i].Samples, "a silent leg is silence")
		levels = append(levels, levelOf(fa[i].Samples))
	}
	f3 := roundTrip(4000)
	require.Equal(t, []int16{0, 0, 0, roundTrip(1000), roundTrip(2000), roundTrip(3000), f3, f3 * 3 / 4, roundTrip(6000), roundTrip(6000) * 3 / 4}, levels)

	st := x.a.Stats()
	require.Equal(t, uint64(1), st.Duplicates)
	require.Equal(t, uint64(1), st.Late)
	require.Equal(t, uint64(1), st.Lost, "4 arrived late (not lost); 6 is lost")
	require.Equal(t, uint64(7), st.PacketsIn)
}
