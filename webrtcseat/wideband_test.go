package webrtcseat_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/callflow"
	"lianxin/media"
	"lianxin/webrtcseat/webrtcseattest"
)

// wideSink keeps the frames a WidebandAgent pushes.
type wideSink struct {
	mu    sync.Mutex
	pcm   []int16
	rates map[int]bool
	last  time.Duration
	order bool
}

func (w *wideSink) WriteFrame(f media.Frame) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pcm = append(w.pcm, f.Samples...)
	w.rates[f.Rate] = true
	if f.Offset < w.last {
		w.order = false
	}
	w.last = f.Offset
	return nil
}

func (w *wideSink) String() string { return "wide-sink" }

func (w *wideSink) take() []int16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.pcm
	w.pcm = nil
	return out
}

// level16 is level at a 16 kHz rate.
func level16(pcm []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/16000)
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s
	}
	return 2 * math.Sqrt(math.Max(s1*s1+s2*s2-coeff*s1*s2, 0)) / float64(len(pcm))
}

// A browser's wideband speech reaches recognition at 16 kHz: a 5 kHz tone from the page's
// microphone (above what the 8 kHz leg can carry) is in the agent tap, in order, while the
// G.711 hop to the caller has none of it, nor its alias.
func TestWidebandAgentTap(t *testing.T) {
	e, _ := newEngine(t)
	var n int
	mic := func() []int16 {
		f := make([]int16, 320)
		for i := range f {
			f[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*5000*float64(n)/16000))
			n++
		}
		return f
	}
	openPage(t, e, "seat-01", webrtcseattest.Options{Codec: "opus", MicRate: 16000, AutoAnswer: true, Mic: mic})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	wide, ok := sc.(callflow.WidebandAgent)
	require.True(t, ok, "a browser seat call hears the agent wideband")
	require.Equal(t, 16000, wide.AgentRate())
	sink := &wideSink{rates: map[int]bool{}, order: true}
	wide.TapAgent(sink)
	flow.play(sc.Remote().Addr, tone(1000, 0.3))

	var acc []int16
	var got float64
	require.Eventually(t, func() bool {
		acc = append(acc, sink.take()...)
		if len(acc) < 3200 {
			return false
		}
		got = level16(acc[len(acc)-3200:], 5000)
		return got > 0.1
	}, 10*time.Second, 50*time.Millisecond, "5 kHz in the 16 kHz tap: %.3f", got)
	wide.TapAgent(nil)
	sink.mu.Lock()
	require.Equal(t, map[int]bool{16000: true}, sink.rates)
	require.True(t, sink.order, "offsets rise")
	sink.mu.Unlock()
	quietTone(t, flow.take, 3000, "no alias of the 5 kHz tone on the 8 kHz hop")
}
