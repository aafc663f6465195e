// Package dsp holds the signal-processing pieces that the media relay and the recognisers'
// resampler share. The filters here are a few dozen taps designed once at start; no Go
// library of this project's dependencies offers a Kaiser window, so it is written here.
package dsp

import "math"

// Kaiser is the Kaiser window of shape beta at t, the position from the window's centre
// (0) to its ends (±1); a t rounded just past an end counts as the end.
func Kaiser(t, beta float64) float64 {
	return besselI0(beta*math.Sqrt(max(0, 1-t*t))) / besselI0(beta)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind, by its series.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}
