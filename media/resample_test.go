package media

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// toneFrames splits a sine at freq Hz into 20 ms frames at rate.
func tone(freq float64, rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func runResampler(t *testing.T, from, to int, in []int16) []int16 {
	t.Helper()
	sink := newFrameSink("sink")
	r, err := NewResampler(from, to, sink)
	require.NoError(t, err)
	step := from / 50
	for off := 0; off+step <= len(in); off += step {
		require.NoError(t, r.WriteFrame(Frame{Samples: in[off : off+step], Rate: from}))
	}
	var out []int16
	for _, f := range sink.snapshot() {
		require.Equal(t, to, f.Rate)
		out = append(out, f.Samples...)
	}
	return out
}

func TestResamplerKeepsToneAndLength(t *testing.T) {
	for _, tc := range []struct{ from, to int }{{8000, 16000}, {16000, 8000}, {8000, 48000}, {44100, 16000}} {
		in := tone(1000, tc.from, tc.from) // one second
		out := runResampler(t, tc.from, tc.to, in)
		require.InDelta(t, tc.to, len(out), 1, "%d->%d", tc.from, tc.to)
		want := tone(1000, tc.to, len(out))
		// Skip the filter's start-up and allow its group delay as lag; a half-sample delay
		// costs a pure tone about 0.02 of correlation.
		require.GreaterOrEqual(t, correlation(want[tc.to/10:tc.to/2], out[tc.to/10:], tc.to/500), 0.97, "%d->%d", tc.from, tc.to)
	}
}

func TestResamplerRejectsBadInput(t *testing.T) {
	_, err := NewResampler(0, 16000, newFrameSink("x"))
	require.Error(t, err)
	r := Resample8to16(newFrameSink("asr"))
	require.Equal(t, "resample(8000->16000) -> asr", r.String())
	require.Error(t, r.WriteFrame(Frame{Samples: make([]int16, 320), Rate: 16000}))
}

func TestResampler8to16AttenuatesImages(t *testing.T) {
	// A 3 kHz tone at 8 kHz must not come out with its 5 kHz image.
	out := runResampler(t, 8000, 16000, tone(3000, 8000, 8000))[1600:]
	power := func(f float64) float64 {
		var re, im float64
		for i, s := range out {
			re += float64(s) * math.Cos(2*math.Pi*f*float64(i)/16000)
			im += float64(s) * math.Sin(2*math.Pi*f*float64(i)/16000)
		}
		return re*re + im*im
	}
	require.Greater(t, power(3000), 100*power(5000))
}
