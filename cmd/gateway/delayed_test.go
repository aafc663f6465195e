package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/desk"
	"lianxin/internal/testpeer"
	"lianxin/store"
)

// legFinals are the finals stored for one leg of a call, live and delayed.
func legFinals(ctx context.Context, t *testing.T, g *testGateway, callID, channel string) (live, delayed []desk.TranscriptData) {
	t.Helper()
	evs, err := g.app.store.Events(ctx, store.EventFilter{CallID: callID})
	require.NoError(t, err)
	for _, ev := range evs {
		if ev.Type != desk.TypeFinal {
			continue
		}
		var d desk.TranscriptData
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		if d.Channel != channel {
			continue
		}
		if d.Delayed {
			delayed = append(delayed, d)
		} else {
			live = append(live, d)
		}
	}
	return live, delayed
}

// With one live stream the caller leg gets it; the agent's leg is transcribed from the
// recording after the call and its finals are flagged delayed — nothing said is lost.
func TestAgentLegTranscribedAfterCallWhenStreamsRunShort(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 1 })
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)

	calls, err := g.app.store.Calls(ctx, store.CallFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	id := calls[0].ID
	require.Eventually(t, func() bool { _, d := legFinals(ctx, t, g, id, "agent"); return len(d) > 0 }, 60*time.Second, 200*time.Millisecond,
		"the agent's leg is transcribed from the recording after the call")
	live, delayed := legFinals(ctx, t, g, id, "caller")
	require.NotEmpty(t, live, "the caller leg had the live stream")
	require.Empty(t, delayed)
	live, _ = legFinals(ctx, t, g, id, "agent")
	require.Empty(t, live, "no live stream was free for the agent leg")
}

// Two streams, two calls: the first call's legs take both. When the second call is
// answered its caller leg takes over the first call's agent stream. The first agent leg
// is live up to that point and transcribed from the recording from there on; the second
// call's agent leg, which found no stream, is transcribed after its call.
func TestCallerLegTakesOverAnAgentStream(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 2 })
	g.seat(t, "seat-01")
	g.seat(t, "seat-02")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// the first caller stays on the line (silent after their words) while both agents,
	// who speak for 12 s from the answer, go on talking
	pcm, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	long := filepath.Join(t.TempDir(), "long.wav")
	require.NoError(t, testpeer.WriteWAV(long, append(pcm, make([]int16, 8000*7)...), 8000, 1))

	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); _, errs[0] = g.sippCallWAV(ctx, t, "caller.xml", long) }()
	time.Sleep(4 * time.Second)
	go func() { defer wg.Done(); _, errs[1] = g.sippCall(ctx, t, "caller.xml") }()
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	calls, err := g.app.store.Calls(ctx, store.CallFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, calls, 2)
	sort.Slice(calls, func(i, j int) bool { return calls[i].OfferedAt.Before(calls[j].OfferedAt) })
	first, second := calls[0].ID, calls[1].ID
	require.Eventually(t, func() bool {
		_, d1 := legFinals(ctx, t, g, first, "agent")
		_, d2 := legFinals(ctx, t, g, second, "agent")
		return len(d1) > 0 && len(d2) > 0
	}, 60*time.Second, 200*time.Millisecond, "both agent legs are (partly) transcribed after their calls")

	live, delayed := legFinals(ctx, t, g, second, "caller")
	require.NotEmpty(t, live, "the second caller got a live stream")
	require.Empty(t, delayed)
	live, delayed = legFinals(ctx, t, g, first, "agent")
	require.NotEmpty(t, live, "the first agent leg was live until the second call came")
	for _, d := range delayed {
		require.GreaterOrEqual(t, d.StartMS, live[len(live)-1].EndMS-500,
			"the delayed part starts where the live part stopped (call time), it does not repeat it: %+v", d)
	}
	live, _ = legFinals(ctx, t, g, second, "agent")
	require.Empty(t, live)
	live, delayed = legFinals(ctx, t, g, first, "caller")
	require.NotEmpty(t, live)
	require.Empty(t, delayed)
	require.Equal(t, 1.0, metricValue(g.metrics(t), "lianxin_asr_agent_legs_preempted_total"))
}
