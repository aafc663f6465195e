package dsp

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The window is 1 at its centre, symmetric, falls to 1/I0(β) at its ends;
// I0 matches its known values (Abramowitz & Stegun table 9.8).
func TestKaiser(t *testing.T) {
	require.InDelta(t, 1.0, Kaiser(0, 7), 1e-12)
	require.InDelta(t, Kaiser(0.3, 7), Kaiser(-0.3, 7), 1e-12)
	require.InDelta(t, 1/besselI0(7), Kaiser(1, 7), 1e-12)
	require.InDelta(t, Kaiser(1, 7), Kaiser(1+1e-15, 7), 1e-12, "rounding past the end is the end")
	require.InDelta(t, 1.2660658777, besselI0(1), 1e-9)
	require.InDelta(t, 27.239871823, besselI0(5), 1e-7)
	require.Less(t, Kaiser(0.9, 7), Kaiser(0.5, 7), "it falls away from the centre")
	require.False(t, math.IsNaN(Kaiser(-1, 0)))
}
