package asrtest

import (
	"context"
	"fmt"
	"math"

	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/standin"
	"lianxin/media"
)

// ClosesWithoutFinal is a server that answers the end of stream with a normal close
// instead of its last results (standin.NoFinal): a crash in the flush, a restart, a
// proxy's cut. The bare adapter must end at the close, not wait out its flush timeout,
// having delivered the finals that came before and nothing out of order. It should end
// with an error, so that the resilience wrapper above it replays what no final covered;
// where the protocol's own end of stream is a normal close (sherpa-onnx's Python server)
// it cannot tell, and must at least surface what the server showed. Behind the wrapper
// nothing is lost: the audio no final covered is replayed to a new connection, which
// gives the final.
func (a Adapter) ClosesWithoutFinal(t *testing.T) {
	fx := DefaultToneFixture(8000)
	frames, err := fx.Load()
	require.NoError(t, err)
	k := kit{fx: fx, frames: frames, o: options{cfg: asr.StreamConfig{Partials: true, SampleRate: 8000}}}
	t.Run("raw", func(t *testing.T) {
		a.Server.Fail(standin.Plan{Fault: standin.NoFinal})
		e := a.Engine(t, a.rates()[0])
		defer e.Close()
		s, err := e.NewStream(context.Background(), k.o.cfg)
		require.NoError(t, err)
		got := Collect(t, s)
		for _, f := range frames {
			require.NoError(t, s.Write(f))
		}
		cerr := s.Close()
		rs := wait(t, got)
		k.checkOrder(t, rs)
		if e, ok := s.(interface{ Err() error }); ok && cerr == nil {
			cerr = e.Err()
		}
		if cerr != nil {
			require.NotContains(t, cerr.Error(), "flush timeout", "the adapter waited out its flush timeout instead of seeing the close")
		} else {
			// a protocol whose normal close is its own end of stream cannot tell: it
			// must at least surface what the server showed
			open := map[int]bool{}
			for _, r := range rs {
				open[r.UtteranceID] = !r.Final
			}
			for id, o := range open {
				require.False(t, o, "utterance %d was shown and neither finalised nor reported lost:\n%s", id, Describe(rs))
			}
		}
		var words []string
		for _, r := range rs {
			if r.Final {
				words = append(words, Tokens(r.Text)...)
			}
		}
		want := fx.Words()
		require.LessOrEqual(t, len(words), len(want))
		require.Equal(t, want[:len(words)], append([]string{}, words...), "the finals before the close, in order and nothing else")
	})
	t.Run("wrapped", func(t *testing.T) {
		a.Server.Fail(standin.Plan{Fault: standin.NoFinal})
		e := a.Wrapped(t)
		defer e.Close()
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true, SampleRate: a.resilientRate()})
		require.NoError(t, err)
		got := Collect(t, s)
		wfx := DefaultToneFixture(a.resilientRate())
		wframes, err := wfx.Load()
		require.NoError(t, err)
		var tick *time.Ticker
		if a.Paced {
			tick = time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
		}
		for _, f := range wframes {
			if tick != nil {
				<-tick.C
			}
			require.NoError(t, s.Write(f))
		}
		require.NoError(t, s.Close())
		wk := kit{fx: wfx, frames: wframes, o: k.o}
		wk.checkResults(t, wait(t, got))
	})
}

func (a Adapter) rates() []int {
	if len(a.Rates) == 0 {
		return []int{8000}
	}
	return a.Rates
}

func (a Adapter) resilientRate() int {
	if a.ResilientRate == 0 {
		return 8000
	}
	return a.ResilientRate
}

// EightKHzLegs offers the engine, at each of the adapter's rates, what a telephone leg
// delivers: 8 kHz audio, here a 1 kHz tone. The stand-in must receive it at the rate the
// engine takes with the tone still at 1 kHz: resampled, not relabelled (8 kHz samples
// sent as 16 kHz play an octave high, at 2 kHz; as 24 kHz, at 3 kHz). An adapter that
// cannot resample must refuse the stream at its start instead.
func (a Adapter) EightKHzLegs(t *testing.T) {
	const hz = 1000.0
	for _, rate := range a.rates() {
		t.Run(fmt.Sprintf("engine-at-%d", rate), func(t *testing.T) {
			e := a.Engine(t, rate)
			defer e.Close()
			s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
			require.NoError(t, err)
			done := Collect(t, s)
			tone := make([]int16, 8000*3/2)
			for i := range tone {
				tone[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
			}
			for _, f := range Frames(tone, 8000, 20*time.Millisecond) {
				require.NoError(t, s.Write(media.Frame{Samples: f.Samples, Rate: f.Rate, Offset: f.Offset}))
			}
			require.NoError(t, s.Close())
			wait(t, done)
			heard := a.Server.Received()
			require.NotZero(t, heard.Rate, "the stand-in heard nothing")
			dur := float64(len(heard.Samples)) / float64(heard.Rate)
			require.InDelta(t, 1.5, dur, 0.1, "%d samples at %d Hz: the audio's length is wrong", len(heard.Samples), heard.Rate)
			got := DominantHz(heard.Samples[len(heard.Samples)/4:len(heard.Samples)*3/4], heard.Rate)
			require.InDelta(t, hz, got, hz*0.02, "the engine, decoding at %d Hz, hears the 1 kHz tone at %.0f Hz", heard.Rate, got)
		})
	}
}

// DominantHz is the frequency of a pure tone, from its zero crossings.
func DominantHz(s []int16, rate int) float64 {
	if len(s) < 2 || rate <= 0 {
		return 0
	}
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(s)) / float64(rate))
}
