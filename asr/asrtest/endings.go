package asrtest

import (
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/tone"
)

// TrailingSilence is the default fixture (DefaultToneFixture) followed by tail of silence,
// as real calls end: the last utterance is final before the end of stream, so the
// server's answer to it carries no text — the message adapters most often misread.
func TrailingSilence(rate int, tail time.Duration) Fixture {
	fx := DefaultToneFixture(rate)
	s, err := tone.Synth(rate, 300*time.Millisecond, tail, fx.Utterances...)
	if err != nil {
		panic(err) // the default fixture's words are in the vocabulary
	}
	fx.Name = fx.Name + "-trailing-silence"
	fx.Frames = Frames(s, rate, 20*time.Millisecond)
	return fx
}

// Finals streams fx through a new stream of e (no partials) and returns the finals'
// texts. Close must return within budget: an adapter that misses the server's last
// message waits for its flush timeout instead, and the caller's hang-up with it.
func Finals(t require.TestingT, e asr.Engine, fx Fixture, budget time.Duration) []string {
	frames, err := fx.Load()
	require.NoError(t, err)
	s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: frames[0].Rate})
	require.NoError(t, err)
	got := make(chan []string, 1)
	go func() {
		var out []string
		for r := range s.Results() {
			if r.Final {
				out = append(out, r.Text)
			}
		}
		got <- out
	}()
	for _, f := range frames {
		require.NoError(t, s.Write(f))
	}
	start := time.Now()
	require.NoError(t, s.Close())
	require.Less(t, time.Since(start), budget, "Close took longer than its budget: a flush timeout?")
	select {
	case out := <-got:
		return out
	case <-time.After(guard):
		require.FailNow(t, "stream did not close its results")
		return nil
	}
}
