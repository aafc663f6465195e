package media

import (
	"math"

	"lianxin/internal/dsp"
)

// The 8 ⇄ 16 kHz conversions of wideband legs share one half-band low-pass: a 63-tap
// Kaiser-windowed sinc (β 7) at 16 kHz, -6 dB at 4 kHz, flat within 0.01 dB to 3.4 kHz and
// at least 70 dB down from 4.6 kHz, so a decimated 5 kHz tone does not fold into the
// telephone band and an interpolated one leaves no image above it. It is written here
// rather than taken from the asr package's general resampler: that one is internal to
// asr and allocates per call, while these run per packet on the relay path, allocate
// nothing and use the half-band's zero taps to do half the work.
const (
	hbTaps   = 63
	hbCentre = hbTaps / 2 // 31: odd, so every tap at an even distance from it is zero
	hbChunk  = 320        // input samples converted per pass over the delay line
)

// hbCoef holds the filter's non-zero side taps h[c±k] for odd k = 1, 3, … 31 (the centre
// tap is ½): its values never change after package initialisation.
var hbCoef = designHalfband()

func designHalfband() [hbCentre/2 + 1]float32 {
	const beta = 7.0
	var full [hbTaps]float64
	sum := 0.0
	for n := range full {
		x := float64(n - hbCentre)
		s := 0.5
		if x != 0 {
			s = math.Sin(math.Pi*x/2) / (math.Pi * x)
		}
		t := 2*float64(n)/(hbTaps-1) - 1
		full[n] = s * dsp.Kaiser(t, beta)
		sum += full[n]
	}
	var side [hbCentre/2 + 1]float32
	for i := range side {
		side[i] = float32(full[hbCentre+2*i+1] / sum)
	}
	return side
}

// decimator halves a 16 kHz stream to 8 kHz through the half-band filter. Its state
// carries across calls, so 20 ms packets convert as one stream.
type decimator struct {
	buf [hbTaps - 1 + hbChunk]float32 // delay line: hbTaps-1 past samples, then new ones
}

// process writes len(src)/2 samples to dst (which must hold them) and returns how many; an
// odd last sample is dropped (G.722 always decodes pairs).
func (d *decimator) process(dst, src []int16) int {
	n := 0
	for len(src) >= 2 {
		c := min(len(src)&^1, hbChunk)
		line := d.buf[:hbTaps-1+c]
		for i, s := range src[:c] {
			line[hbTaps-1+i] = float32(s)
		}
		for m := 0; m < c/2; m++ {
			// output m stands for the first sample of input pair m, so an interpolated
			// stream halves back to its own samples, not to the points between them
			w := line[2*m : 2*m+hbTaps]
			acc := 0.5 * w[hbCentre]
			for i, h := range hbCoef {
				k := 2*i + 1
				acc += h * (w[hbCentre-k] + w[hbCentre+k])
			}
			dst[n] = clip16(acc)
			n++
		}
		copy(d.buf[:hbTaps-1], line[c:])
		src = src[c:]
	}
	return n
}

// interpolator doubles an 8 kHz stream to 16 kHz through the half-band filter applied to
// the zero-stuffed input: one output phase meets only the centre tap (the input, delayed),
// the other only the side taps. State carries across calls.
type interpolator struct {
	buf [hbCentre + hbChunk]float32 // hbCentre past samples, then new ones
}

// process writes 2*len(src) samples to dst (which must hold them) and returns how many.
func (p *interpolator) process(dst, src []int16) int {
	n := 0
	for len(src) > 0 {
		c := min(len(src), hbChunk)
		line := p.buf[:hbCentre+c]
		for i, s := range src[:c] {
			line[hbCentre+i] = float32(s)
		}
		for m := range c {
			// w[j] is input m-31+j; side tap h[c±k] (k = 2i+1) meets inputs 16+i and
			// 15-i back, ×2 for the stuffed zeros
			w := line[m : m+hbCentre+1]
			var acc float32
			for i, h := range hbCoef {
				acc += h * (w[15-i] + w[16+i])
			}
			dst[n] = clip16(2 * acc)
			dst[n+1] = clip16(w[16])
			n += 2
		}
		copy(p.buf[:hbCentre], line[c:])
		src = src[c:]
	}
	return n
}

func clip16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}
