package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/desk"
	"lianxin/store"
)

// With one live stream the caller leg gets it; the agent's leg is transcribed from the
// recording after the call and its finals are flagged delayed — nothing said is lost.
func TestAgentLegTranscribedAfterCallWhenStreamsRunShort(t *testing.T) {
	g := startGateway(t, func(c *Config) { c.ASR.Default = "pocketsphinx"; c.ASR.MaxStreams = 1 })
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)

	calls, err := g.app.store.Calls(ctx, store.CallFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	finals := func(channel string) (live, delayed []string) {
		evs, err := g.app.store.Events(ctx, store.EventFilter{CallID: calls[0].ID})
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
				delayed = append(delayed, d.Text)
			} else {
				live = append(live, d.Text)
			}
		}
		return live, delayed
	}
	require.Eventually(t, func() bool { _, d := finals("agent"); return len(d) > 0 }, 60*time.Second, 200*time.Millisecond,
		"the agent's leg is transcribed from the recording after the call")
	live, delayed := finals("caller")
	require.NotEmpty(t, live, "the caller leg had the live stream")
	require.Empty(t, delayed)
	live, _ = finals("agent")
	require.Empty(t, live, "no live stream was free for the agent leg")
}
