package media

import (
	"fmt"
	"math"
)

// resampleTaps is the filter length per polyphase branch: enough to keep telephone speech
// (≤ 3.4 kHz) clean for a recogniser while costing 24 multiply-adds per output sample.
const resampleTaps = 24

// Resampler is a FrameWriter that converts frames from one sample rate to another with a
// polyphase windowed-sinc (Blackman) filter and passes them on. It keeps filter state
// between frames, so one Resampler serves one stream. The frames it writes reuse one buffer
// (valid during the next writer's WriteFrame call).
type Resampler struct {
	from, to int
	up, down int         // to/from reduced: interpolate by up, decimate by down
	phases   [][]float32 // phases[p][j]: coefficient of input n-j for output phase p
	hist     []float32   // the last resampleTaps-1 inputs
	work     []float32
	out      []int16
	pos      int // next output's input position, in 1/up input samples, from block start
	next     FrameWriter
}

// NewResampler returns a resampler from one rate to another writing to next.
func NewResampler(from, to int, next FrameWriter) (*Resampler, error) {
	if from <= 0 || to <= 0 || from > 384000 || to > 384000 {
		return nil, fmt.Errorf("media: bad resampling rates %d -> %d", from, to)
	}
	if next == nil {
		return nil, fmt.Errorf("media: resampler needs a writer")
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g, next: next,
		hist: make([]float32, resampleTaps-1)}
	r.design()
	return r, nil
}

// Resample8to16 wraps next (a 16 kHz consumer such as a wideband recogniser) so that it can
// be fed the 8 kHz tap frames.
func Resample8to16(next FrameWriter) *Resampler {
	r, _ := NewResampler(SampleRate, 16000, next) // constant rates cannot fail
	return r
}

// design builds the prototype low-pass at the upsampled rate and splits it into phases.
func (r *Resampler) design() {
	n := r.up * resampleTaps
	// Cut off a little below the lower Nyquist so the transition band falls above it.
	fc := 0.5 / float64(max(r.up, r.down)) * 0.92
	r.phases = make([][]float32, r.up)
	for p := range r.phases {
		r.phases[p] = make([]float32, resampleTaps)
	}
	mid := float64(n-1) / 2
	for i := range n {
		x := float64(i) - mid
		sinc := 2 * fc
		if x != 0 {
			sinc = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/float64(n-1))
		r.phases[i%r.up][i/r.up] = float32(sinc * w * float64(r.up))
	}
}

// String prints the conversion and the chain behind it.
func (r *Resampler) String() string {
	return fmt.Sprintf("resample(%d->%d) -> %s", r.from, r.to, r.next)
}

// WriteFrame converts one frame (at the source rate) and writes the result to next.
func (r *Resampler) WriteFrame(f Frame) error {
	if f.Rate != r.from {
		return fmt.Errorf("media: resampler for %d Hz got a %d Hz frame", r.from, f.Rate)
	}
	h := len(r.hist)
	if need := h + len(f.Samples); cap(r.work) < need {
		r.work = make([]float32, need)
	} else {
		r.work = r.work[:need]
	}
	copy(r.work, r.hist)
	for i, s := range f.Samples {
		r.work[h+i] = float32(s)
	}
	n := len(f.Samples)
	r.out = r.out[:0]
	for ; r.pos/r.up < n; r.pos += r.down {
		i, p := r.pos/r.up, r.pos%r.up
		var acc float32
		x := r.work[i : i+resampleTaps]
		for j, c := range r.phases[p] {
			acc += c * x[resampleTaps-1-j]
		}
		r.out = append(r.out, clamp16(acc))
	}
	r.pos -= n * r.up
	copy(r.hist, r.work[n:])
	return r.next.WriteFrame(Frame{Samples: r.out, Rate: r.to, Offset: f.Offset})
}

func clamp16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	if v >= 0 {
		return int16(v + 0.5)
	}
	return int16(v - 0.5)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
