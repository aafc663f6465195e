package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// frameOf encodes a constant-level frame so each emitted frame can be identified.
func frameOf(level int16) []byte {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = level
	}
	b := make([]byte, FrameSamples)
	PCMU().Encode(b, pcm)
	return b
}

// levelOf is a frame's middle sample.
func levelOf(frame []int16) int16 { return frame[FrameSamples/2] }

// roundTrip is a level after µ-law encoding and decoding, as a frame carries it.
func roundTrip(level int16) int16 {
	var out [1]int16
	PCMU().Decode(out[:], frameOf(level)[:1])
	return out[0]
}

func TestWindowReordersWithinDepth(t *testing.T) {
	w := newWindow(60 * time.Millisecond)
	// Packets 0..5 arrive one per tick as 1,0,3,2,5,4; playout starts three frames
	// before the first arrival's timestamp.
	var got []int16
	for _, i := range []int{1, 0, 3, 2, 5, 4} {
		require.True(t, w.insert(uint32(1000+i*FrameSamples), frameOf(int16(1000*(i+1))), PCMU()))
		got = append(got, levelOf(w.next()))
	}
	for range 4 {
		got = append(got, levelOf(w.next()))
	}
	want := []int16{0, 0}
	for i := range 6 {
		want = append(want, roundTrip(int16(1000*(i+1))))
	}
	require.Equal(t, want, got[:8], "frame 1 arrived first: playout starts 3 frames (60 ms) before it, so frame 0 fits in")
}

func TestWindowConcealsShortGapsThenSilence(t *testing.T) {
	w := newWindow(20 * time.Millisecond)
	require.True(t, w.insert(0, frameOf(8000), PCMU()))
	require.Equal(t, int16(0), levelOf(w.next()), "playout delay")
	full := levelOf(w.next())
	require.Equal(t, roundTrip(8000), full)
	var faded []int16
	for range 5 {
		faded = append(faded, levelOf(w.next()))
	}
	require.Equal(t, []int16{full * 3 / 4, full * 2 / 4, full / 4, 0, 0}, faded)
}

func TestWindowCountsLateAndResyncsOnJumps(t *testing.T) {
	w := newWindow(40 * time.Millisecond)
	require.True(t, w.insert(1600, frameOf(100), PCMU()))
	for range 4 {
		w.next()
	}
	// Frame at 1600 played at tick 3; a packet for 1440 is now late.
	require.False(t, w.insert(1440, frameOf(200), PCMU()))
	require.Equal(t, uint64(1), w.late)
	// A jump far ahead (new timeline) resyncs instead of counting everything late.
	require.True(t, w.insert(900000, frameOf(300), PCMU()))
	require.Equal(t, uint64(1), w.resyncs)
	w.next()
	w.next()
	require.Equal(t, roundTrip(300), levelOf(w.next()))
}

func TestRecvStatsCountsLossAndDuplicates(t *testing.T) {
	var s recvStats
	seqs := []uint16{65530, 65531, 65533, 65533, 65534, 65532, 1, 2, 2}
	var st []seqStatus
	for _, q := range seqs {
		r, _ := s.update(7, q)
		st = append(st, r)
	}
	require.Equal(t, []seqStatus{seqNew, seqNew, seqNew, seqDuplicate, seqNew, seqNew, seqNew, seqNew, seqDuplicate}, st)
	require.Equal(t, uint64(2), s.dups)
	require.Equal(t, uint64(2), s.totalLost(), "65535 and 0 missing, 65532 came late: wrap handled")
	s2 := recvStats{}
	for _, q := range []uint16{10, 11, 200} {
		s2.update(1, q)
	}
	require.Equal(t, uint64(188), s2.totalLost())
	_, lost := s2.update(1, 300)
	require.Equal(t, uint64(99), lost, "holes leaving the window are declared lost")
	require.Equal(t, uint64(188+99), s2.totalLost())
}
