// Package audiotest checks audio by signal rather than bytes: a lossy codec, a jitter
// window and concealment change the bytes of what was sent, not the signal.
package audiotest

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// BestCorrelation finds the shift of got (within ±maxLag samples) that best matches ref
// and returns the normalised correlation over the overlap at that shift, and the shift
// (got[i+lag] ≈ ref[i]). About 0.9 or more means the same audio after G.711.
func BestCorrelation(ref, got []int16, maxLag int) (float64, int) {
	if len(ref) == 0 || len(got) == 0 {
		return 0, 0
	}
	n := 1
	for n < len(ref)+len(got) {
		n <<= 1
	}
	a := make([]float64, n)
	b := make([]float64, n)
	for i, v := range ref {
		a[i] = float64(v)
	}
	for i, v := range got {
		b[i] = float64(v)
	}
	fft := fourier.NewFFT(n)
	fa := fft.Coefficients(nil, a)
	fb := fft.Coefficients(nil, b)
	for i := range fa {
		fa[i] = complexConj(fa[i]) * fb[i]
	}
	xc := fft.Sequence(nil, fa) // xc[lag mod n] = Σ ref[i]·got[i+lag], scaled by n
	pa := prefixSquares(ref)
	pb := prefixSquares(got)
	best, bestLag := -2.0, 0
	for lag := -maxLag; lag <= maxLag; lag++ {
		// overlap: i in [max(0,-lag), min(len(ref), len(got)-lag))
		lo := max(0, -lag)
		hi := min(len(ref), len(got)-lag)
		if hi-lo < 800 { // at least 100 ms of overlap at 8 kHz
			continue
		}
		ea := pa[hi] - pa[lo]
		eb := pb[hi+lag] - pb[lo+lag]
		if ea == 0 || eb == 0 {
			continue
		}
		c := xc[(lag+n)%n] / float64(n) / math.Sqrt(ea*eb)
		if c > best {
			best, bestLag = c, lag
		}
	}
	return best, bestLag
}

func complexConj(c complex128) complex128 { return complex(real(c), -imag(c)) }

func prefixSquares(x []int16) []float64 {
	p := make([]float64, len(x)+1)
	for i, v := range x {
		p[i+1] = p[i] + float64(v)*float64(v)
	}
	return p
}

// Channel extracts channel ch of interleaved samples.
func Channel(interleaved []int16, channels, ch int) []int16 {
	out := make([]int16, 0, len(interleaved)/channels)
	for i := ch; i < len(interleaved); i += channels {
		out = append(out, interleaved[i])
	}
	return out
}

// Tone returns the strength of frequency f (Hz) in x relative to its total energy
// (Goertzel), 0…1: how a test finds a tone that should be present.
func Tone(x []int16, rate int, f float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * f / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range x {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
		energy += float64(v) * float64(v)
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if energy == 0 {
		return 0
	}
	return 2 * power / (float64(len(x)) * energy)
}

// SNR aligns got to ref as BestCorrelation does (within ±maxLag samples) and returns the
// signal-to-noise ratio in dB of got against ref over their overlap, and the shift: how
// faithfully a codec kept a waveform.
func SNR(ref, got []int16, maxLag int) (float64, int) {
	_, lag := BestCorrelation(ref, got, maxLag)
	var sig, noise float64
	for i := max(0, -lag); i < len(ref) && i+lag < len(got); i++ {
		r, g := float64(ref[i]), float64(got[i+lag])
		sig += r * r
		noise += (r - g) * (r - g)
	}
	if noise == 0 {
		return math.Inf(1), lag
	}
	return 10 * math.Log10(sig/noise), lag
}
