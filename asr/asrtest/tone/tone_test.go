package tone

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func decodeAll(t *testing.T, rate int, s []int16, chunk int) []Event {
	t.Helper()
	d := NewDecoder(rate)
	var evs []Event
	for len(s) > 0 {
		n := min(chunk, len(s))
		evs = append(evs, d.Feed(s[:n])...)
		s = s[n:]
	}
	return append(evs, d.Flush()...)
}

func finals(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Final {
			out = append(out, e.Text())
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	utts := [][]string{{"hello", "water", "street"}, {"broken", "light"}, {"thank", "you"}}
	for _, rate := range []int{8000, 16000, 24000} {
		s, err := Synth(rate, 300*time.Millisecond, 50*time.Millisecond, utts...)
		require.NoError(t, err)
		evs := decodeAll(t, rate, s, rate/50)
		require.Equal(t, []string{"hello water street", "broken light", "thank you"}, finals(evs), "rate %d", rate)
		// partials grow one word at a time before each final
		require.Equal(t, "hello", evs[0].Text())
		require.False(t, evs[0].Final)
	}
}

func TestTimes(t *testing.T) {
	s, err := Synth(8000, 200*time.Millisecond, 0, []string{"police", "help"})
	require.NoError(t, err)
	evs := decodeAll(t, 8000, s, 160)
	require.Equal(t, []string{"police help"}, finals(evs))
	w := evs[len(evs)-1].Words[0]
	require.InDelta(t, float64(200*time.Millisecond), float64(w.Start), float64(20*time.Millisecond))
}

func TestLostAudioChangesText(t *testing.T) {
	s, err := Synth(8000, 0, 0, []string{"hello", "water", "street"})
	require.NoError(t, err)
	// cut the middle word out: the text must show it
	cut := append(append([]int16(nil), s[:1400]...), s[2900:]...)
	require.Equal(t, []string{"hello street"}, finals(decodeAll(t, 8000, cut, 160)))
	// PCM16 bytes read as something else decode to nothing recognisable
	noise := make([]int16, 8000)
	for i := range noise {
		noise[i] = int16((i * 7919) % 20000)
	}
	require.Empty(t, finals(decodeAll(t, 8000, noise, 160)))
}

func TestUnknownWord(t *testing.T) {
	_, err := Synth(8000, 0, 0, []string{"zebra"})
	require.ErrorContains(t, err, "zebra")
}
