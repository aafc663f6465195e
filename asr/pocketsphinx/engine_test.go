//go:build cgo && !nopocketsphinx

package pocketsphinx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/internal/wavfile"
	"lianxin/media"
)

// These tests drive the real recogniser on the project's fixtures (testdata/asr).

func load(t *testing.T, path string) ([]int16, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := wavfile.NewReader(f)
	require.NoError(t, err)
	var out []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, r.Rate
		}
		require.NoError(t, err)
	}
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

// feed writes pcm as 20 ms frames, waiting for queue room so that nothing is dropped.
func feed(t *testing.T, s asr.Stream, pcm []int16, rate int) {
	t.Helper()
	per := rate / 50
	for i := 0; i < len(pcm); i += per {
		f := media.Frame{Samples: pcm[i:min(i+per, len(pcm))], Rate: rate, Offset: time.Duration(i) * time.Second / time.Duration(rate)}
		require.NoError(t, s.(asr.WaitWriter).WriteWait(context.Background(), f))
	}
}

// collect gathers results until Results is closed.
func collect(s asr.Stream) <-chan []asr.Result {
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

func finalText(rs []asr.Result) string {
	var parts []string
	for _, r := range rs {
		if r.Final {
			parts = append(parts, r.Text)
		}
	}
	return strings.Join(parts, " ")
}

func transcribe(t *testing.T, e *Engine, path string) []asr.Result {
	t.Helper()
	pcm, rate := load(t, path)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: rate, Partials: true, Channel: "caller"})
	require.NoError(t, err)
	got := collect(s)
	feed(t, s, pcm, rate)
	require.NoError(t, s.Close())
	return <-got
}

func TestFinalsHaveTheKeyWords(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1})
	for path, words := range map[string][]string{
		"../../testdata/asr/wav16/hl-01.wav": {"number", "twelve", "bus", "station"},
		"../../testdata/asr/wav16/hl-17.wav": {"sewer", "blocked", "water"},
		"../../testdata/asr/wav/hl-13.wav":   {"traffic", "light", "working"}, // telephone band, µ-law
	} {
		text := finalText(transcribe(t, e, path))
		for _, w := range words {
			require.Contains(t, strings.Fields(text), w, "%s: %q", path, text)
		}
	}
}

func TestPartialsPrecedeOneFinalPerUtterance(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1})
	rs := transcribe(t, e, "../../testdata/asr/wav16/hl-15.wav") // two sentences, a pause between
	finals := map[int]asr.Result{}
	partials := map[int]int{}
	var lastEnd time.Duration
	for _, r := range rs {
		_, done := finals[r.UtteranceID]
		require.False(t, done, "result after the final of utterance %d: %+v", r.UtteranceID, r)
		require.LessOrEqual(t, r.Start, r.End)
		if r.Final {
			finals[r.UtteranceID] = r
			require.GreaterOrEqual(t, r.Start, lastEnd, "utterances overlap")
			lastEnd = r.End
			for i := 1; i < len(r.Words); i++ {
				require.LessOrEqual(t, r.Words[i-1].End, r.Words[i].Start)
			}
		} else {
			partials[r.UtteranceID]++
			require.NotEmpty(t, r.Text)
		}
	}
	require.Len(t, finals, 2, "two utterances: %+v", rs)
	require.Positive(t, partials[1])
	require.Positive(t, partials[2])
	// the second sentence starts after the first one's 0.6 s + 0.4 s padding (~5 s in)
	require.Greater(t, finals[2].Start, 4*time.Second)
	require.Less(t, finals[2].End, 9*time.Second)
}

func TestCloseFlushesTheUtteranceInProgress(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1})
	pcm, rate := load(t, "../../testdata/asr/wav16/hl-01.wav")
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: rate, Partials: true})
	require.NoError(t, err)
	got := collect(s)
	feed(t, s, pcm[:len(pcm)*3/4], rate) // cut mid-sentence: no endpoint in the audio
	require.NoError(t, s.Close())
	rs := <-got
	require.NotEmpty(t, rs)
	last := rs[len(rs)-1]
	require.True(t, last.Final)
	require.Contains(t, last.Text, "bus")
	require.NoError(t, s.Close(), "Close is idempotent")
	require.Error(t, s.Write(media.Frame{Samples: make([]int16, 320), Rate: 16000}))
}

func TestStreamLimitAndDecoderReuse(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1})
	first := finalText(transcribe(t, e, "../../testdata/asr/wav16/hl-03.wav"))
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 16000})
	require.NoError(t, err)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 16000})
	require.ErrorIs(t, err, asr.ErrStreamLimit)
	require.NoError(t, s.Close())
	// the decoder went back to the pool; a reused decoder gives the same transcript
	require.Equal(t, first, finalText(transcribe(t, e, "../../testdata/asr/wav16/hl-03.wav")))
}

func TestCancelStopsTheStream(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1})
	pcm, rate := load(t, "../../testdata/asr/wav16/hl-02.wav")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := e.NewStream(ctx, asr.StreamConfig{SampleRate: rate})
	require.NoError(t, err)
	got := collect(s)
	feed(t, s, pcm[:len(pcm)/2], rate)
	cancel()
	<-got // Results closes without Close being called
	require.NoError(t, s.Close())
	s2, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: rate})
	require.NoError(t, err, "the cancelled stream's decoder is free again")
	require.NoError(t, s2.Close())
}

func TestWriteDropsInsteadOfBlocking(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1, QueueFrames: 4})
	pcm, rate := load(t, "../../testdata/asr/wav16/hl-12.wav")
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: rate})
	require.NoError(t, err)
	got := collect(s)
	for range 3 { // ~14 s of audio written at once: far faster than any decoder
		for i := 0; i+320 <= len(pcm); i += 320 {
			require.NoError(t, s.Write(media.Frame{Samples: pcm[i : i+320], Rate: rate}))
		}
	}
	require.Positive(t, s.(*stream).Dropped())
	require.NoError(t, s.Close())
	<-got
}

func TestEngineCloseEndsStreams(t *testing.T) {
	e, err := New(Config{MaxStreams: 1})
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.NoError(t, err)
	got := collect(s)
	require.NoError(t, e.Close())
	<-got
	require.ErrorIs(t, s.Close(), asr.ErrUnavailable)
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000})
	require.ErrorIs(t, err, asr.ErrUnavailable)
	require.NoError(t, e.Close(), "idempotent")
}

func TestRejectsWhatItCannotDo(t *testing.T) {
	e := newEngine(t, Config{MaxStreams: 1, LM: LMDomain})
	_, err := e.NewStream(context.Background(), asr.StreamConfig{Language: "zh-CN"})
	require.ErrorContains(t, err, "not supported")
	_, err = e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 44100})
	require.ErrorContains(t, err, "44100")
	_, err = New(Config{ModelDir: "/nonexistent"})
	require.ErrorIs(t, err, asr.ErrUnavailable)
	_, err = New(Config{Extra: []string{"-lw"}})
	require.Error(t, err)
}

// Hotwords make names the hotline model has never seen recognisable on the live
// configuration (the domain model alone, a closed vocabulary, telephone band): without them
// "juniper lane" and "hawthorn terrace" are not words the decoder can produce at all.
func TestHotwordsOnLiveModel(t *testing.T) {
	files := map[string]string{
		"../../testdata/asr/hotwords/wav/hw-01.wav": "juniper lane",
		"../../testdata/asr/hotwords/wav/hw-02.wav": "hawthorn terrace",
	}
	plain := newEngine(t, Config{LM: LMDomain, MaxStreams: 1})
	var logs bytes.Buffer
	biased := newEngine(t, Config{LM: LMDomain, MaxStreams: 1, Hotwords: []string{"Juniper Lane", "hawthorn terrace", "Magnolia Avenue"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for path, name := range files {
		require.NotContains(t, finalText(transcribe(t, plain, path)), name, path)
		require.Contains(t, finalText(transcribe(t, biased, path)), name, path)
	}
	require.NotContains(t, logs.String(), "not applied")

	// a stream cannot add hotwords of its own to a model built once: it says so
	s, err := biased.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000, Channel: "caller",
		Hotwords: []string{"juniper lane", "Elm Street"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Contains(t, logs.String(), "stream hotwords not applied")
	require.Contains(t, logs.String(), `hotwords="[Elm Street]"`, "only the phrase the engine lacks")
}

// Finals carry word posteriors from the decoder's lattice: an agent or a QA reviewer can
// see which words to doubt. On a sentence recognised word for word the
// confidence is high; on one the engine gets half wrong, the wrong words are the doubtful
// ones.
func TestConfidence(t *testing.T) {
	final := func(e *Engine, path string) asr.Result {
		var out []asr.Result
		for _, r := range transcribe(t, e, path) {
			if r.Final {
				out = append(out, r)
			}
		}
		require.Len(t, out, 1, path)
		return out[0]
	}
	file := newEngine(t, Config{SecondPass: true, MaxStreams: 1})
	good := final(file, "../../testdata/asr/wav16/hl-01.wav") // recognised exactly
	require.Equal(t, "the number twelve bus did not stop at the station this morning", good.Text)
	require.Greater(t, good.Confidence, 0.9)
	for _, w := range good.Words {
		require.InDelta(t, 0.5, w.Confidence, 0.5, w.Text)
	}
	// espeak-ng's "... at the middle school for my son", heard as "... at the old too old ..."
	bad := final(file, "../../testdata/asr/wav16/hl-09.wav")
	require.Less(t, bad.Confidence, good.Confidence-0.2)
	var doubtful []string
	for _, w := range bad.Words {
		if w.Confidence < 0.5 {
			doubtful = append(doubtful, w.Text)
		}
	}
	require.NotEmpty(t, doubtful)
	require.NotContains(t, doubtful, "apply", "a word recognised right is not doubted")

	// the live configuration (closed vocabulary, telephone band) gives them too, weaker
	// word by word (docs/asr.md); partials, which have no lattice, say -1 (unknown)
	live := newEngine(t, Config{LM: LMDomain, MaxStreams: 1})
	lr := final(live, "../../testdata/asr/wav/hl-01.wav")
	require.InDelta(t, 0.5, lr.Confidence, 0.5)
	require.NotEmpty(t, lr.Words)
	for _, w := range lr.Words {
		require.InDelta(t, 0.5, w.Confidence, 0.5, w.Text)
	}
	for _, r := range transcribe(t, live, "../../testdata/asr/wav/hl-01.wav") {
		if !r.Final {
			require.Equal(t, -1.0, r.Confidence)
		}
	}
}

// A leg that ends in the middle of a word (the caller hangs up, the recording stops) can
// leave the decoder's lattice without an end node; the final then carries the search's own
// hypothesis (no words, confidence unknown) rather than nothing. This cut of agent.wav
// does that on the live configuration.
func TestFinalSurvivesALatticeWithoutEnd(t *testing.T) {
	e := newEngine(t, Config{LM: LMDomain, MaxStreams: 1})
	pcm, rate := load(t, "../../testdata/audio/agent.wav")
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: rate})
	require.NoError(t, err)
	got := collect(s)
	feed(t, s, pcm[:80000], rate)
	require.NoError(t, s.Close())
	rs := <-got
	require.Len(t, rs, 1)
	require.True(t, rs[0].Final)
	require.Contains(t, rs[0].Text, "calling")
	require.Equal(t, -1.0, rs[0].Confidence)
}
