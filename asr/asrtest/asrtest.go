// Package asrtest is the conformance kit every speech engine passes, embedded or network:
//
//	asrtest.Run(t, func(t *testing.T) asr.Engine { … }, asrtest.DefaultToneFixture(16000))
//
// It checks that partials precede the final of their utterance, that each utterance has
// exactly one final, that times are monotonic and inside the audio, that Close flushes the
// last final, that cancelling the context stops the stream promptly, that nothing leaks
// goroutines, and (given a hook that kills the engine's connections) that a dropped
// connection recovers with no word lost or repeated. It writes frames the way the media
// fan-out does — from a buffer it reuses once Write returns — so an engine that keeps a
// frame's samples past Write shows up as a wrong transcript.
package asrtest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"lianxin/asr"
	"lianxin/asr/asrtest/tone"
	"lianxin/media"
)

// guard bounds every wait so that a stuck engine fails the test instead of hanging it. It is
// a liveness bound, not a speed assertion.
const guard = 30 * time.Second

type options struct {
	cfg  asr.StreamConfig
	kill func()
}

// Option adjusts Run.
type Option func(*options)

// WithKill enables the reconnect case: kill must drop the engine's live connections
// abruptly (a stand-in server's Kill). The engine under test must be wrapped for resilience.
func WithKill(kill func()) Option { return func(o *options) { o.kill = kill } }

// Run runs the conformance suite. newEngine is called once per case; the engine it returns
// is closed by the case.
func Run(t *testing.T, newEngine func(t *testing.T) asr.Engine, fx Fixture, opts ...Option) {
	frames, err := fx.Load()
	require.NoError(t, err)
	require.NotEmpty(t, frames)
	o := options{cfg: asr.StreamConfig{Partials: true, Channel: "caller"}}
	for _, f := range opts {
		f(&o)
	}
	if o.cfg.SampleRate == 0 {
		o.cfg.SampleRate = frames[0].Rate
	}
	c := kit{fx: fx, frames: frames, o: o, newEngine: newEngine}
	t.Run("transcript", c.transcript)
	t.Run("close-flushes", c.closeFlushes)
	t.Run("cancel", c.cancel)
	if o.kill != nil {
		t.Run("reconnect", c.reconnect)
	}
}

type kit struct {
	fx        Fixture
	frames    []media.Frame
	o         options
	newEngine func(t *testing.T) asr.Engine
}

// open creates an engine and a stream; the returned func closes the engine and checks for
// leaked goroutines.
func (k kit) open(t *testing.T, ctx context.Context) (asr.Stream, func()) {
	e := k.newEngine(t)
	ignore := goleak.IgnoreCurrent()
	s, err := e.NewStream(ctx, k.o.cfg)
	require.NoError(t, err)
	return s, func() {
		require.NoError(t, e.Close())
		goleak.VerifyNone(t, ignore)
	}
}

// Collect gathers a stream's results until Results closes. It fails the test if that
// takes longer than a generous guard.
func Collect(t testing.TB, s asr.Stream) <-chan []asr.Result {
	out := make(chan []asr.Result, 1)
	go func() {
		var rs []asr.Result
		for r := range s.Results() {
			rs = append(rs, r)
		}
		out <- rs
	}()
	return out
}

func wait(t *testing.T, ch <-chan []asr.Result) []asr.Result {
	t.Helper()
	select {
	case rs := <-ch:
		return rs
	case <-time.After(guard):
		require.FailNow(t, "stream did not close its results", "after %v", guard)
		return nil
	}
}

func (k kit) transcript(t *testing.T) {
	s, done := k.open(t, context.Background())
	defer done()
	got := Collect(t, s)
	// frame buffers are lent, not given (the media fan-out reuses them): once Write
	// returns, the kit scribbles on each frame's buffer
	for _, f := range k.frames {
		buf := append([]int16(nil), f.Samples...)
		f.Samples = buf
		require.NoError(t, s.Write(f))
		scribble(buf, f.Rate)
	}
	require.NoError(t, s.Close())
	rs := wait(t, got)
	k.checkResults(t, rs)
	if k.o.cfg.Partials {
		require.True(t, hasPartial(rs), "partials were asked for but none came: %v", rs)
	}
	require.NoError(t, s.Close(), "Close must be idempotent")
	require.Error(t, s.Write(k.frames[0]), "Write after Close must fail")
}

func (k kit) closeFlushes(t *testing.T) {
	s, done := k.open(t, context.Background())
	defer done()
	got := Collect(t, s)
	for _, f := range k.frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs := wait(t, got)
	words := k.fx.Words()
	require.NotEmpty(t, rs)
	last := rs[len(rs)-1]
	require.True(t, last.Final, "the last result must be a final: %+v", last)
	if k.fx.MaxWER == 0 && len(words) > 0 {
		lw := Tokens(last.Text)
		require.NotEmpty(t, lw, "the last final is empty")
		require.Equal(t, words[len(words)-1], lw[len(lw)-1], "the last word must come with the flush")
	}
}

func (k kit) cancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, done := k.open(t, ctx)
	defer done()
	got := Collect(t, s)
	for _, f := range k.frames[:len(k.frames)/2] {
		require.NoError(t, s.Write(f))
	}
	cancel()
	rs := wait(t, got)
	k.checkOrder(t, rs)
	for _, f := range k.frames[len(k.frames)/2:] {
		_ = s.Write(f) // may fail, must not block or panic
	}
	_ = s.Close()
}

func (k kit) reconnect(t *testing.T) {
	s, done := k.open(t, context.Background())
	defer done()
	first := make(chan struct{})
	results := make(chan []asr.Result, 1)
	go func() {
		var rs []asr.Result
		for r := range s.Results() {
			if len(rs) == 0 {
				close(first)
			}
			rs = append(rs, r)
		}
		results <- rs
	}()
	half := len(k.frames) / 2
	for _, f := range k.frames[:half] {
		require.NoError(t, s.Write(f))
	}
	// kill only once the engine is demonstrably live, so the drop lands mid-stream
	select {
	case <-first:
	case <-time.After(guard):
		require.FailNow(t, "no result before the kill")
	}
	k.o.kill()
	for _, f := range k.frames[half:] {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	k.checkResults(t, wait(t, results))
}

// checkResults checks order, timing and the words.
func (k kit) checkResults(t *testing.T, rs []asr.Result) {
	t.Helper()
	k.checkOrder(t, rs)
	var got []string
	open := map[int]bool{}
	for _, r := range rs {
		require.False(t, r.Gap, "unexpected gap: %+v", r)
		open[r.UtteranceID] = !r.Final
		if r.Final {
			got = append(got, Tokens(r.Text)...)
		}
	}
	for id, o := range open {
		require.False(t, o, "utterance %d has partials but no final:\n%s", id, Describe(rs))
	}
	want := k.fx.Words()
	wer := WER(want, got)
	require.LessOrEqual(t, wer, k.fx.MaxWER, "WER %.3f\nwant: %s\ngot:  %s\nresults: %s",
		wer, strings.Join(want, " "), strings.Join(got, " "), Describe(rs))
}

// checkOrder checks the stream invariants that hold even for a cancelled stream.
func (k kit) checkOrder(t *testing.T, rs []asr.Result) {
	t.Helper()
	end := k.frames[len(k.frames)-1].Offset + k.frames[len(k.frames)-1].Duration()
	final := map[int]bool{}
	partial := map[int]bool{}
	var lastStart, lastEnd time.Duration
	for i, r := range rs {
		where := fmt.Sprintf("result %d %+v in\n%s", i, r, Describe(rs))
		require.False(t, final[r.UtteranceID], "result after the final of its utterance: %s", where)
		require.LessOrEqual(t, r.Start, r.End, where)
		require.GreaterOrEqual(t, r.Start, time.Duration(0), where)
		require.LessOrEqual(t, r.End, end+time.Second, "result beyond the audio: %s", where)
		require.LessOrEqual(t, r.Confidence, 1.0, where)
		for _, w := range r.Words {
			require.LessOrEqual(t, w.Start, w.End, where)
		}
		if !r.Final {
			partial[r.UtteranceID] = true
			continue
		}
		require.True(t, r.Text != "" || partial[r.UtteranceID], "empty final with no partial before it: %s", where)
		require.GreaterOrEqual(t, r.Start, lastStart, "finals out of order: %s", where)
		require.GreaterOrEqual(t, r.End, lastEnd, "finals out of order: %s", where)
		lastStart, lastEnd = r.Start, r.End
		final[r.UtteranceID] = true
	}
}

// scribble overwrites a lent buffer with a loud tone word, so that an engine which kept
// the samples hears words that were never said.
func scribble(buf []int16, rate int) {
	f, _ := tone.Freq("police")
	for i := range buf {
		buf[i] = int16(12000 * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
}

func hasPartial(rs []asr.Result) bool {
	for _, r := range rs {
		if !r.Final {
			return true
		}
	}
	return false
}

// Describe prints results one per line, for failure messages.
func Describe(rs []asr.Result) string {
	var b strings.Builder
	for _, r := range rs {
		kind := "partial"
		if r.Final {
			kind = "FINAL"
		}
		if r.Gap {
			kind = "GAP"
		}
		fmt.Fprintf(&b, "  #%d %-7s %6dms–%6dms %q\n", r.UtteranceID, kind, r.Start.Milliseconds(), r.End.Milliseconds(), r.Text)
	}
	return b.String()
}
