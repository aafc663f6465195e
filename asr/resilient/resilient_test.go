package resilient_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/resilient"
)

// fakeClock fires every timer at once and records the delays asked for.
type fakeClock struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (c *fakeClock) Now() time.Time { return time.Unix(0, 0) }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.delays = append(c.delays, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func (c *fakeClock) Delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.delays...)
}

// manualClock fires timers only when told to.
type manualClock struct {
	mu      sync.Mutex
	pending []chan time.Time
}

func (c *manualClock) Now() time.Time { return time.Unix(0, 0) }
func (c *manualClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.pending = append(c.pending, ch)
	return ch
}

// Fire fires every pending timer.
func (c *manualClock) Fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.pending {
		ch <- time.Time{}
	}
	c.pending = nil
}

func wrap(t *testing.T, inner asr.Engine, cfg resilient.Config) *resilient.Engine {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = &fakeClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = func() float64 { return 0.5 }
	}
	e, err := resilient.Wrap(inner, cfg)
	require.NoError(t, err)
	return e
}

func TestConformance(t *testing.T) {
	var eng *toneEngine
	asrtest.Run(t, func(t *testing.T) asr.Engine {
		eng = newToneEngine()
		return wrap(t, eng, resilient.Config{})
	}, asrtest.DefaultToneFixture(8000), asrtest.WithKill(func() { eng.Kill() }))
}

// run writes the fixture and returns every result.
func run(t *testing.T, e asr.Engine, fx asrtest.Fixture) ([]asr.Result, resilient.Stats) {
	t.Helper()
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	return <-got, s.(interface{ Stats() resilient.Stats }).Stats()
}

func finals(rs []asr.Result) (texts []string, starts []time.Duration) {
	for _, r := range rs {
		if r.Final {
			texts = append(texts, r.Text)
			starts = append(starts, r.Words[0].Start)
		}
	}
	return
}

func TestReplayLosesNoWordsAndRebasesTimes(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	want, wantStarts := finals(must(run(t, wrap(t, newToneEngine(), resilient.Config{}), fx)))
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, want)
	// kill the connection at every 7th frame: mid-word, mid-utterance, in silences
	for die := 3; die < len(fx.Frames); die += 7 {
		eng := newToneEngine()
		eng.dieAfter = []int{die, die}
		rs, st := run(t, wrap(t, eng, resilient.Config{}), fx)
		got, starts := finals(rs)
		require.Equal(t, want, got, "connection died after %d frames:\n%s", die, asrtest.Describe(rs))
		for i := range starts {
			require.InDelta(t, float64(wantStarts[i]), float64(starts[i]), float64(time.Millisecond), "utterance %d", i)
		}
		require.GreaterOrEqual(t, st.Reconnects, int64(1))
		require.Greater(t, st.Replayed, time.Duration(0))
	}
}

func must(rs []asr.Result, _ resilient.Stats) []asr.Result { return rs }

func TestOutageLongerThanRingIsAGapAndTheCallGoesOn(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	eng := newToneEngine()
	eng.dieAfter = []int{70} // after the first final (1.3 s)
	clock := &manualClock{}
	e := wrap(t, eng, resilient.Config{Ring: 500 * time.Millisecond, Clock: clock})
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	eng.down.Store(true)
	for _, f := range fx.Frames[:150] {
		require.NoError(t, s.Write(f))
	}
	// no signal says the loop has taken the frames; the queue depth does
	require.Eventually(t, func() bool { return s.(interface{ Stats() resilient.Stats }).Stats().Queued == 0 }, 10*time.Second, time.Millisecond)
	eng.down.Store(false)
	clock.Fire()
	for _, f := range fx.Frames[150:] {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs := <-got
	var texts []string
	for _, r := range rs {
		if r.Final {
			texts = append(texts, r.Text)
		}
	}
	// frames 125–149 (2.5–3.0 s) were still in the ring: the last word of the second
	// utterance is recovered from them; 0.9–2.5 s is a gap
	require.Equal(t, []string{"hello water broken", resilient.GapText, "noise", "thank you"}, texts, asrtest.Describe(rs))
	for _, r := range rs {
		if r.Gap {
			require.Equal(t, 900*time.Millisecond, r.Start)
			require.Equal(t, 2500*time.Millisecond, r.End)
		}
	}
	require.ErrorContains(t, s.(interface{ Err() error }).Err(), "reset")
}

func TestEngineDownAtCloseEndsWithGap(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	eng := newToneEngine()
	eng.dieAfter = []int{110}
	clock := &fakeClock{}
	e := wrap(t, eng, resilient.Config{Attempts: 3, Clock: clock})
	s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	eng.down.Store(true)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs := <-got
	last := rs[len(rs)-1]
	require.True(t, last.Gap, asrtest.Describe(rs))
	require.True(t, last.Final)
	require.Equal(t, 900*time.Millisecond, last.Start)
	require.Equal(t, fx.Frames[len(fx.Frames)-1].Offset+20*time.Millisecond, last.End)
	texts, _ := finals(rs[:len(rs)-1])
	require.Equal(t, []string{"hello water broken"}, texts)
	require.Equal(t, int64(1), s.(interface{ Stats() resilient.Stats }).Stats().Gaps)
}

func TestRotatesBeforeSessionLimit(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	eng := newToneEngine()
	rs, st := run(t, wrap(t, eng, resilient.Config{MaxSession: 7 * time.Second, RotateEarly: 6 * time.Second}), fx)
	got, _ := finals(rs)
	require.Equal(t, []string{"hello water broken", "please report street light noise", "thank you"}, got, asrtest.Describe(rs))
	require.GreaterOrEqual(t, st.Rotations, int64(1))
	require.Zero(t, st.Reconnects)
}

func TestWriteNeverBlocks(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	eng := newToneEngine()
	eng.block = make(chan struct{})
	e := wrap(t, eng, resilient.Config{Queue: 10})
	s, err := e.NewStream(context.Background(), asr.StreamConfig{})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f)) // returns although the engine takes nothing
	}
	st := s.(interface{ Stats() resilient.Stats }).Stats()
	require.GreaterOrEqual(t, st.Dropped, int64(len(fx.Frames)-12))
	close(eng.block)
	require.NoError(t, s.Close())
	<-got
}

func TestBackoff(t *testing.T) {
	b := resilient.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	require.Equal(t, 100*time.Millisecond, b.Delay(1, 0.5))
	require.Equal(t, 400*time.Millisecond, b.Delay(3, 0.5))
	require.Equal(t, time.Second, b.Delay(10, 0.5))
	require.Equal(t, 50*time.Millisecond, b.Delay(1, 0))
	require.Equal(t, 1500*time.Millisecond, b.Delay(10, 1))

	eng := newToneEngine()
	clock := &fakeClock{}
	fx := asrtest.DefaultToneFixture(8000)
	eng.dieAfter = []int{30}
	e := wrap(t, eng, resilient.Config{Clock: clock, Backoff: b})
	s, err := e.NewStream(context.Background(), asr.StreamConfig{})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for i, f := range fx.Frames {
		if i == 25 {
			eng.mu.Lock()
			eng.refuse = 2
			eng.mu.Unlock()
		}
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	<-got
	require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, clock.Delays())
}

func TestFirstConnectFailureIsReturned(t *testing.T) {
	eng := newToneEngine()
	eng.refuse = 1
	_, err := wrap(t, eng, resilient.Config{}).NewStream(context.Background(), asr.StreamConfig{})
	require.ErrorContains(t, err, "refused")
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := resilient.NewMetrics(reg)
	require.NoError(t, err)
	m2, err := resilient.NewMetrics(reg) // a second wrapper on the same registry shares them
	require.NoError(t, err)
	eng := newToneEngine()
	eng.dieAfter = []int{60}
	fx := asrtest.DefaultToneFixture(8000)
	run(t, wrap(t, eng, resilient.Config{Metrics: m}), fx)
	run(t, wrap(t, newToneEngine(), resilient.Config{Metrics: m2}), fx)
	require.Equal(t, 1.0, testutil.ToFloat64(counter(t, reg, "lianxin_asr_reconnects_total")))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
	n, err := testutil.GatherAndCount(reg, "lianxin_asr_result_lag_seconds")
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func counter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			v := mf.GetMetric()[0].GetCounter().GetValue()
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: strings.TrimSuffix(name, "_total") + "_copy"})
			c.Add(v)
			return c
		}
	}
	require.FailNow(t, "no metric", name)
	return nil
}
