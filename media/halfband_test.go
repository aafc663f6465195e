package media

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/internal/audiotest"
)

func sine(n, rate int, f, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return out
}

func rms(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// Decimation keeps the telephone band and removes what would fold into it: a 5 kHz tone
// (G.722 carries it) must not reach a G.711 caller as a 3 kHz one.
func TestDecimatorPassesSpeechBandStopsFolding(t *testing.T) {
	var d decimator
	out := make([]int16, 8000)
	n := d.process(out, sine(16000, 16000, 1000, 10000))
	require.Equal(t, 8000, n)
	require.InDelta(t, 10000/math.Sqrt2, rms(out[100:]), 10000/math.Sqrt2*0.01, "1 kHz passes at unity gain")
	require.Greater(t, audiotest.Tone(out[100:], 8000, 1000), 0.99)

	var d5 decimator
	d5.process(out, sine(16000, 16000, 5000, 10000))
	require.Less(t, rms(out[100:]), 10000/math.Sqrt2*math.Pow(10, -60.0/20), "5 kHz is ≥ 60 dB down, not folded to 3 kHz")
}

// Interpolation leaves no image: a 1 kHz tone at 8 kHz becomes 1 kHz at 16 kHz, with
// nothing at its 7 kHz mirror.
func TestInterpolatorLeavesNoImage(t *testing.T) {
	var p interpolator
	out := make([]int16, 16000)
	require.Equal(t, 16000, p.process(out, sine(8000, 8000, 1000, 10000)))
	require.InDelta(t, 10000/math.Sqrt2, rms(out[200:]), 10000/math.Sqrt2*0.01)
	require.Greater(t, audiotest.Tone(out[200:], 16000, 1000), 0.99)
	require.Less(t, audiotest.Tone(out[200:], 16000, 7000), 1e-6, "no image at 7 kHz")
}

// 20 ms packets convert exactly as one stream would, and up then down gives the input back
// (31 samples later at 8 kHz).
func TestHalfbandStreamsAcrossPackets(t *testing.T) {
	in := testSignal(8000)
	var whole interpolator
	wantUp := make([]int16, 16000)
	whole.process(wantUp, in)
	var pkts interpolator
	var up []int16
	buf := make([]int16, 320)
	for i := 0; i < len(in); i += 160 {
		n := pkts.process(buf, in[i:i+160])
		up = append(up, buf[:n]...)
	}
	require.Equal(t, wantUp, up)

	var d decimator
	back := make([]int16, 8000)
	var got []int16
	for i := 0; i < len(up); i += 320 {
		n := d.process(back, up[i:i+320])
		got = append(got, back[:n]...)
	}
	snr, lag := audiotest.SNR(in, got, 100)
	require.Equal(t, 31, lag)
	require.Greater(t, snr, 50.0)
}
