// Package resample converts mono PCM16 between sample rates with a polyphase windowed-sinc
// (Kaiser) filter, streaming: state carries over between calls so 20 ms frames resample as
// seamlessly as a whole file.
package resample

import (
	"fmt"
	"lianxin/internal/dsp"
	"math"
)

// taps per phase of the polyphase filter: 32 gives ~60 dB stop-band with the Kaiser window
// below, plenty for speech recognition and cheap (32 MACs per output sample).
const taps = 32

// Resampler converts a stream from one rate to another. It is not safe for concurrent use.
type Resampler struct {
	in, out int
	up, dn  int         // rational ratio out/in = up/dn
	phases  [][]float32 // phases[p] is the filter for output phase p, taps long
	hist    []float32   // last taps-1 input samples followed by the new input
	pos     int64       // position of the next output sample in up-sampled units, relative to hist[0]
}

// New returns a resampler from rate in to rate out (Hz).
func New(in, out int) (*Resampler, error) {
	if in <= 0 || out <= 0 || in > 384000 || out > 384000 {
		return nil, fmt.Errorf("resample: unsupported rates %d → %d Hz", in, out)
	}
	g := gcd(in, out)
	r := &Resampler{in: in, out: out, up: out / g, dn: in / g}
	if r.up > 4096 {
		return nil, fmt.Errorf("resample: ratio %d/%d too fine (rates %d → %d Hz)", r.up, r.dn, in, out)
	}
	r.design()
	r.hist = make([]float32, taps-1)
	return r, nil
}

// String names the conversion, e.g. "Resample(8000→16000)".
func (r *Resampler) String() string { return fmt.Sprintf("Resample(%d→%d)", r.in, r.out) }

// design builds the prototype low-pass at the up-sampled rate and splits it into phases.
func (r *Resampler) design() {
	n := taps * r.up
	// cutoff relative to the up-sampled rate: the lower Nyquist, with a transition band of
	// ~10% below it so that speech up to 3.6 kHz (8 kHz) or 7.2 kHz (16 kHz) passes flat.
	fc := 0.5 / float64(max(r.up, r.dn)) * 0.92
	const beta = 7.0
	proto := make([]float64, n)
	mid := float64(n-1) / 2
	for i := range proto {
		x := float64(i) - mid
		sinc := 2 * fc
		if x != 0 {
			sinc = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		t := 2*float64(i)/float64(n-1) - 1
		proto[i] = sinc * dsp.Kaiser(t, beta)
	}
	r.phases = make([][]float32, r.up)
	for p := range r.up {
		h := make([]float32, taps)
		for k := range taps {
			// output phase p uses prototype taps p, p+up, p+2up…; reversed so that h[k]
			// multiplies hist[base+k] (oldest first).
			h[taps-1-k] = float32(proto[p+k*r.up] * float64(r.up))
		}
		r.phases[p] = h
	}
}

// Process resamples the next block of input and returns the output it completes. The
// output lags the input by the filter's group delay (taps/2 input samples).
func (r *Resampler) Process(in []int16) []int16 {
	if r.up == r.dn {
		return append([]int16(nil), in...)
	}
	for _, s := range in {
		r.hist = append(r.hist, float32(s))
	}
	var out []int16
	// output sample at up-sampled position pos uses input samples whose window ends at
	// floor(pos/up)+taps-1 in hist.
	for {
		base := r.pos / int64(r.up)
		if base+taps > int64(len(r.hist)) {
			break
		}
		h := r.phases[r.pos%int64(r.up)]
		x := r.hist[base : base+taps]
		var acc float32
		for k, c := range h {
			acc += c * x[k]
		}
		out = append(out, clip(acc))
		r.pos += int64(r.dn)
	}
	// drop consumed history, keeping taps-1 samples of context
	drop := r.pos / int64(r.up)
	if drop > 0 {
		r.hist = append(r.hist[:0], r.hist[drop:]...)
		r.pos -= drop * int64(r.up)
	}
	return out
}

// Flush returns the output still held in the filter's delay line (pads with silence).
func (r *Resampler) Flush() []int16 {
	if r.up == r.dn {
		return nil
	}
	return r.Process(make([]int16, taps))
}

func clip(v float32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
