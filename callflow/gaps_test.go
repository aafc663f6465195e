package callflow

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/funasr"
	"lianxin/asr/funasr/funasrtest"
	"lianxin/asr/resilient"
	"lianxin/seat"
)

// oneEngine routes every line to one engine.
type oneEngine struct{ asr.Engine }

func (o oneEngine) ForLine(string) (asr.Engine, error) { return o.Engine, nil }

// transcript is a TranscriptSink that keeps the finals it is given.
type transcript struct {
	mu      sync.Mutex
	live    []asr.Result
	delayed []asr.Result
	failed  []error
}

func (s *transcript) Result(_ *Info, channel string, r asr.Result, delayed bool) {
	if channel != "caller" || !r.Final {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if delayed {
		s.delayed = append(s.delayed, r)
	} else {
		s.live = append(s.live, r)
	}
}

func (s *transcript) StreamFailed(_ *Info, _ string, err error) {
	s.mu.Lock()
	s.failed = append(s.failed, err)
	s.mu.Unlock()
}

func (s *transcript) snapshot() (live, delayed []asr.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]asr.Result(nil), s.live...), append([]asr.Result(nil), s.delayed...)
}

// speak sends samples to where the caller's peer sends, as PCMU every 20 ms, once the
// call is answered (silence before: early media is neither recorded nor transcribed), then
// silence; spoken reports how much has been sent.
func speak(t *testing.T, c *fakeCaller, samples []int16) (spoken func() time.Duration) {
	p := c.peer
	var mu sync.Mutex
	var sent int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seq uint16
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			p.mu.Lock()
			to := p.to
			p.mu.Unlock()
			if !to.IsValid() {
				continue
			}
			payload := make([]byte, 160)
			_, answered, _, _ := c.state()
			mu.Lock()
			for i := range payload {
				if !answered {
					payload[i] = g711.EncodeUlawFrame(0)
					continue
				}
				var v int16
				if sent < len(samples) {
					v = samples[sent]
				}
				payload[i] = g711.EncodeUlawFrame(v)
				sent++
			}
			n := sent
			mu.Unlock()
			seq++
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(n), SSRC: 7},
				Payload: payload}).Marshal()
			_, _ = p.conn.WriteToUDPAddrPort(b, to)
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	return func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(sent) * time.Second / 8000
	}
}

// say renders utterances of tone words with the silence before each.
func say(t *testing.T, parts ...any) (pcm []int16, ends []time.Duration) {
	for _, p := range parts {
		switch v := p.(type) {
		case time.Duration:
			pcm = append(pcm, make([]int16, int(v*8000/time.Second))...)
		case []string:
			s, err := tone.Synth(8000, 0, 0, v)
			require.NoError(t, err)
			pcm = append(pcm, s...)
			ends = append(ends, time.Duration(len(pcm))*time.Second/8000)
		}
	}
	return pcm, ends
}

// The engine goes down mid-call and comes back: what the caller said while it was down
// is marked as a gap live, and after the call it is transcribed from the recording, from
// the spans the gaps mark, and stored as delayed finals in their time order, with ids
// that leave the live lines alone.
func TestOutageGapsTranscribedFromTheRecording(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	inner, err := funasr.New(funasr.Config{URL: srv.URL(), FlushTimeout: time.Second, DialTimeout: time.Second})
	require.NoError(t, err)
	eng, err := resilient.Wrap(inner, resilient.Config{Ring: time.Second, Attempts: 2,
		Backoff: resilient.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Multiplier: 2}})
	require.NoError(t, err)

	before, during, after := []string{"hello", "water", "broken"}, [][]string{{"please", "report"}, {"street", "light", "noise"}}, []string{"thank", "you"}
	pcm, ends := say(t, 300*time.Millisecond, before, 1500*time.Millisecond, during[0], 1500*time.Millisecond, during[1],
		2500*time.Millisecond, after, time.Second)

	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 0}, func(c *Config, _ *seat.Config) { c.DelayedRetry = 100 * time.Millisecond })
	sink := &transcript{}
	tf.deps.ASR, tf.deps.Sink = oneEngine{eng}, sink
	caller := newFakeCaller(t, 0)
	spoken := speak(t, caller, pcm)
	done := tf.handle(t, caller)

	hasFinal := func(words []string) bool {
		live, _ := sink.snapshot()
		for _, r := range live {
			if near(r.Text, words) {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool { return hasFinal(before) }, 20*time.Second, 20*time.Millisecond, "live before the outage")
	srv.Down()
	// back once the words said while it was down have left the 1 s replay ring
	require.Eventually(t, func() bool { return spoken() > ends[2]+1500*time.Millisecond }, 20*time.Second, 20*time.Millisecond)
	srv.Up()
	require.Eventually(t, func() bool { return hasFinal(after) }, 20*time.Second, 20*time.Millisecond, "live again after the outage")
	caller.hangUp(errors.New("caller hung up"))
	<-done
	tf.obs.waitEnded(t)

	live, _ := sink.snapshot()
	var gaps []asr.Result
	for _, r := range live {
		if r.Gap {
			gaps = append(gaps, r)
		}
		for _, w := range during {
			require.False(t, near(r.Text, w), "said while the engine was down, %q cannot be live", r.Text)
		}
	}
	require.NotEmpty(t, gaps, "the outage is marked live")

	var delayed []asr.Result
	require.Eventually(t, func() bool {
		_, delayed = sink.snapshot()
		return len(delayed) >= len(during)
	}, 30*time.Second, 50*time.Millisecond, "the lost span is transcribed from the recording")
	for i, w := range during {
		require.True(t, near(delayed[i].Text, w), "lost utterance %d, in the order said: %s", i, describe(sink))
	}
	liveIDs := map[int]bool{}
	for _, r := range live {
		liveIDs[r.UtteranceID] = true
	}
	for i, r := range delayed {
		require.False(t, liveIDs[r.UtteranceID], "delayed id %d would overwrite a live line", r.UtteranceID)
		if i > 0 {
			require.Greater(t, r.Start, delayed[i-1].Start, "in time order")
		}
		// the outage is marked in pieces while it lasts: the span is their union
		require.GreaterOrEqual(t, r.Start, gaps[0].Start, "%+v lies in the outage %v–%v", r, gaps[0].Start, gaps[len(gaps)-1].End)
		require.LessOrEqual(t, r.End, gaps[len(gaps)-1].End+100*time.Millisecond, "%+v lies in the outage %v–%v", r, gaps[0].Start, gaps[len(gaps)-1].End)
	}
	// on the call's clock: the lost utterances sit where they were said, as far from the
	// first one (transcribed live) as in the audio sent
	first := live[0]
	require.InDelta(t, (ends[1] - ends[0]).Seconds(), (delayed[0].End - first.End).Seconds(), 0.3, describe(sink))
	require.InDelta(t, (ends[2] - ends[0]).Seconds(), (delayed[1].End - first.End).Seconds(), 0.3, describe(sink))
	require.Empty(t, sink.failed)
}

func describe(s *transcript) string {
	live, delayed := s.snapshot()
	var b strings.Builder
	for _, r := range append(live, delayed...) {
		b.WriteString(fmt.Sprintf("\n  #%d %v–%v gap=%v %q", r.UtteranceID, r.Start, r.End, r.Gap, r.Text))
	}
	return b.String()
}

// near is whether text says words, but for at most one: a loaded machine loses late
// packets, from the live legs and the recording alike (the tone words are exact
// otherwise).
func near(text string, words []string) bool {
	got := strings.Fields(text)
	return asrtest.WER(words, got)*float64(len(words)) <= 1 && len(got) > 0
}
