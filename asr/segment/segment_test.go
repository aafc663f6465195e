package segment_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/segment"
	"lianxin/media"
)

// toneRecognizer stands in for an HTTP transcription endpoint: it decodes tone words.
type toneRecognizer struct {
	fail  atomic.Int32 // fail this many requests first
	calls atomic.Int32
}

func (r *toneRecognizer) String() string { return "tones" }

func (r *toneRecognizer) Recognize(ctx context.Context, u segment.Utterance) (segment.Transcript, error) {
	r.calls.Add(1)
	if r.fail.Add(-1) >= 0 {
		return segment.Transcript{}, errors.New("HTTP 503")
	}
	d := tone.NewDecoder(u.Rate)
	var words []tone.Word
	for _, e := range append(d.Feed(u.Samples), d.Flush()...) {
		if e.Final {
			words = append(words, e.Words...)
		}
	}
	t := segment.Transcript{Text: tone.Join(words), Confidence: -1}
	for _, w := range words {
		t.Words = append(t.Words, asr.Word{Text: w.Text, Start: w.Start, End: w.End, Confidence: -1})
	}
	return t, nil
}

func TestSegmenterConformance(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			asrtest.Run(t, func(t *testing.T) asr.Engine {
				return segment.NewSegmenter("tones", &toneRecognizer{}, segment.Config{PartialEvery: 200 * time.Millisecond})
			}, asrtest.DefaultToneFixture(rate))
		})
	}
}

func TestGateConformance(t *testing.T) {
	asrtest.Run(t, func(t *testing.T) asr.Engine {
		inner := segment.NewSegmenter("tones", &toneRecognizer{}, segment.Config{PartialEvery: 200 * time.Millisecond})
		return segment.NewGate(inner, segment.GateConfig{Trail: 600 * time.Millisecond})
	}, longSilences(t))
}

// longSilences is speech with 5 s silences between utterances: what a gate is for.
func longSilences(t *testing.T) asrtest.Fixture {
	var s []int16
	utts := [][]string{{"hello", "police"}, {"broken", "tree"}, {"thank", "you"}}
	for i, u := range utts {
		lead := 5 * time.Second
		if i == 0 {
			lead = 300 * time.Millisecond
		}
		a, err := tone.Synth(8000, lead, 100*time.Millisecond, u)
		require.NoError(t, err)
		s = append(s, a...)
	}
	return asrtest.Fixture{Name: "long-silences", Frames: asrtest.Frames(noisy(s), 8000, 20*time.Millisecond), Utterances: utts}
}

// noisy adds a low, deterministic noise floor (about -60 dBFS).
func noisy(s []int16) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = v + int16(r.IntN(64)-32)
	}
	return out
}

func TestGateDropsSilenceAndKeepsTimes(t *testing.T) {
	fx := longSilences(t)
	inner := segment.NewSegmenter("tones", &toneRecognizer{}, segment.Config{})
	g := segment.NewGate(inner, segment.GateConfig{})
	s, err := g.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs := <-got
	require.Len(t, rs, 3)
	// the engine heard a shortened stream; times must still be on the call's clock
	want := []time.Duration{300 * time.Millisecond, 5780 * time.Millisecond, 11260 * time.Millisecond}
	for i, r := range rs {
		require.InDelta(t, float64(want[i]), float64(r.Words[0].Start), float64(30*time.Millisecond), "utterance %d: %s", i, asrtest.Describe(rs))
	}
	dropped := s.(interface{ Dropped() int64 }).Dropped()
	total := int64(len(fx.Frames))
	require.Greater(t, dropped, total/3, "the gate should keep most of 10 s of silence away (%d of %d frames)", dropped, total)
}

func TestVADHangoverFromOffsets(t *testing.T) {
	v := segment.NewVAD(segment.VADConfig{Hangover: 300 * time.Millisecond})
	a, err := tone.Synth(8000, 200*time.Millisecond, time.Second, []string{"help"})
	require.NoError(t, err)
	var trans []string
	for _, f := range asrtest.Frames(noisy(a), 8000, 20*time.Millisecond) {
		switch v.Process(f) {
		case segment.SpeechStart:
			trans = append(trans, fmt.Sprintf("start@%v", v.SpeechStart()))
		case segment.SpeechEnd:
			trans = append(trans, fmt.Sprintf("end@%v", v.SpeechEnd()))
		}
	}
	require.Equal(t, []string{"start@200ms", "end@360ms"}, trans)
}

func TestVADZeroCrossingsCatchQuietFricatives(t *testing.T) {
	// quiet broadband hiss (an "s") at about -49 dBFS: under the energy threshold, busy in
	// zero crossings
	r := rand.New(rand.NewPCG(3, 4))
	hiss := make([]int16, 8000)
	for i := range hiss {
		hiss[i] = int16(r.IntN(400) - 200)
	}
	silence := make([]int16, 8000)
	v := segment.NewVAD(segment.VADConfig{})
	started := false
	for _, f := range asrtest.Frames(append(silence, hiss...), 8000, 20*time.Millisecond) {
		if v.Process(f) == segment.SpeechStart {
			started = true
		}
	}
	require.True(t, started)
	db, zcr := segment.Level(hiss[:160])
	require.Less(t, db, -42.0)
	require.Greater(t, zcr, 0.3)
}

func TestSegmenterRetriesThenGap(t *testing.T) {
	fx := asrtest.DefaultToneFixture(8000)
	rec := &toneRecognizer{}
	rec.fail.Store(2) // first utterance: two failures, then success on the last retry
	var mu sync.Mutex
	var waits []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	eng := segment.NewSegmenter("tones", rec, segment.Config{Retries: 2, After: after})
	s, err := eng.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got := asrtest.Collect(t, s)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs := <-got
	require.Len(t, rs, 3)
	require.Equal(t, "hello water broken", rs[0].Text)
	require.Len(t, waits, 2)

	// an engine that never answers: every utterance becomes a visible gap, never silence
	rec.fail.Store(1 << 20)
	s, err = eng.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got = asrtest.Collect(t, s)
	for _, f := range fx.Frames {
		require.NoError(t, s.Write(f))
	}
	require.NoError(t, s.Close())
	rs = <-got
	require.Len(t, rs, 3)
	for _, r := range rs {
		require.True(t, r.Gap)
		require.True(t, r.Final)
		require.Equal(t, segment.GapText, r.Text)
		require.Greater(t, r.End, r.Start)
	}
	require.ErrorContains(t, s.(interface{ Err() error }).Err(), "503")
}

func TestSegmenterRejectsRateChangeAndLimitsStreams(t *testing.T) {
	eng := segment.NewSegmenter("tones", &toneRecognizer{}, segment.Config{MaxStreams: 1})
	s, err := eng.NewStream(context.Background(), asr.StreamConfig{})
	require.NoError(t, err)
	_, err = eng.NewStream(context.Background(), asr.StreamConfig{})
	require.ErrorIs(t, err, asr.ErrStreamLimit)
	require.NoError(t, s.Write(media.Frame{Samples: make([]int16, 160), Rate: 8000}))
	require.ErrorContains(t, s.Write(media.Frame{Samples: make([]int16, 320), Rate: 16000}), "16000")
	require.NoError(t, s.Close())
	s, err = eng.NewStream(context.Background(), asr.StreamConfig{})
	require.NoError(t, err, "a closed stream frees its slot")
	require.NoError(t, s.Close())
}
