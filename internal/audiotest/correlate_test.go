package audiotest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func noise(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(r.NormFloat64() * 3000)
	}
	return out
}

func TestBestCorrelationFindsShift(t *testing.T) {
	ref := noise(8000, 1)
	got := append(make([]int16, 1234), ref...)
	c, lag := BestCorrelation(ref, got, 4000)
	require.InDelta(t, 1.0, c, 1e-6)
	require.Equal(t, 1234, lag)

	other := noise(9000, 2)
	c, _ = BestCorrelation(ref, other, 4000)
	require.Less(t, c, 0.2, "unrelated signals do not correlate")
}

func TestTone(t *testing.T) {
	x := make([]int16, 8000)
	for i := range x {
		x[i] = int16(8000 * math.Sin(2*math.Pi*450*float64(i)/8000))
	}
	require.Greater(t, Tone(x, 8000, 450), 0.9)
	require.Less(t, Tone(x, 8000, 1000), 0.01)
}
