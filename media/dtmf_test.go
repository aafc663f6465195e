package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDTMF(t *testing.T) {
	for _, tc := range []struct {
		payload []byte
		want    DTMFEvent
	}{
		{[]byte{5, 0x0a, 0x01, 0x40}, DTMFEvent{Event: 5, Digit: '5', Volume: 10, Duration: 320}},
		{[]byte{11, 0x8a, 0x03, 0x20}, DTMFEvent{Event: 11, Digit: '#', End: true, Volume: 10, Duration: 800}},
		{[]byte{10, 0, 0, 0}, DTMFEvent{Event: 10, Digit: '*'}},
		{[]byte{13, 0, 0, 0, 99, 99}, DTMFEvent{Event: 13, Digit: 'B'}},
		{[]byte{40, 0, 0, 0}, DTMFEvent{Event: 40}},
	} {
		got, err := ParseDTMF(tc.payload)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
		require.Equal(t, tc.payload[:4], AppendDTMF(nil, got))
	}
	_, err := ParseDTMF([]byte{1, 2, 3})
	require.ErrorIs(t, err, ErrShortDTMF)
	require.Equal(t, 100*time.Millisecond, DTMFEvent{Duration: 800}.DurationAt(8000))
}

func TestDTMFCodeRoundTrip(t *testing.T) {
	for _, d := range "0123456789*#ABCD!" {
		code, ok := DTMFCode(d)
		require.True(t, ok)
		require.Equal(t, d, dtmfDigit(code))
	}
	_, ok := DTMFCode('x')
	require.False(t, ok)
}

func TestDTMFTrackerReportsEachEventOnce(t *testing.T) {
	var tr dtmfTracker
	var got []DTMFEvent
	feed := func(ts uint32, ev DTMFEvent) {
		out, n := tr.update(ts, ev)
		got = append(got, out[:n]...)
	}
	// Digit 1: progress packets then three identical end packets.
	for _, d := range []uint16{160, 320, 480} {
		feed(1000, DTMFEvent{Digit: '1', Duration: d})
	}
	for range 3 {
		feed(1000, DTMFEvent{Digit: '1', End: true, Duration: 640})
	}
	// Digit 2 loses every end packet; digit 3 starting reports it.
	feed(5000, DTMFEvent{Digit: '2', Duration: 160})
	feed(5000, DTMFEvent{Digit: '2', Duration: 320})
	feed(9000, DTMFEvent{Digit: '3', End: true, Duration: 400})
	feed(9000, DTMFEvent{Digit: '3', End: true, Duration: 400})
	require.Equal(t, []DTMFEvent{
		{Digit: '1', End: true, Duration: 640},
		{Digit: '2', Duration: 320},
		{Digit: '3', End: true, Duration: 400},
	}, got)
}
