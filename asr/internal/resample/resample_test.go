package resample

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func tone(rate, n int, hz float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// power of x at frequency hz (Goertzel-style projection), normalised by length.
func power(x []int16, rate int, hz float64) float64 {
	var re, im float64
	for i, s := range x {
		a := 2 * math.Pi * hz * float64(i) / float64(rate)
		re += float64(s) * math.Cos(a)
		im += float64(s) * math.Sin(a)
	}
	return (re*re + im*im) / float64(len(x)*len(x))
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestToneSurvivesAndLengthMatches(t *testing.T) {
	for _, c := range []struct{ in, out int }{{8000, 16000}, {16000, 8000}, {22050, 16000}, {44100, 16000}, {48000, 8000}, {11025, 8000}} {
		r, err := New(c.in, c.out)
		require.NoError(t, err)
		src := tone(c.in, c.in, 1000) // 1 s of 1 kHz
		var got []int16
		for i := 0; i < len(src); i += c.in / 50 { // 20 ms blocks
			got = append(got, r.Process(src[i:min(i+c.in/50, len(src))])...)
		}
		got = append(got, r.Flush()...)
		require.InDelta(t, c.out, len(got), float64(c.out)/100+taps, "%v length", c)
		mid := got[len(got)/4 : 3*len(got)/4]
		require.InDelta(t, 8000/math.Sqrt2, rms(mid), 8000/math.Sqrt2*0.05, "%v amplitude", c)
		require.Greater(t, power(mid, c.out, 1000), 100*power(mid, c.out, 1500), "%v tone", c)
	}
}

func TestDownsamplingRejectsAliases(t *testing.T) {
	// a 6 kHz tone is above the 4 kHz Nyquist of 8 kHz output: it must be filtered, not folded to 2 kHz
	r, err := New(16000, 8000)
	require.NoError(t, err)
	out := r.Process(tone(16000, 16000, 6000))
	require.Less(t, rms(out[100:]), 8000/math.Sqrt2*0.01)
}

func TestBadRates(t *testing.T) {
	for _, c := range [][2]int{{0, 8000}, {8000, -1}, {1_000_000, 8000}, {383_999, 8000}} {
		_, err := New(c[0], c[1])
		require.Error(t, err, "%v", c)
	}
}
