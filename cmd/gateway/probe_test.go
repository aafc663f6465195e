package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
)

// A queued caller whose phone sends no RTP in early media (sipp's callers, like many
// phones) is probed with an OPTIONS in its dialog. One that answers (-aa) waits on and
// reaches the seat that registers; one killed without a CANCEL leaves the queue after two
// unanswered probes; one that answers 481 leaves at its first probe. No agent is rung for
// the two that are gone.
func TestQueuedCallersAreProbed(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.ACD.ProbeInterval = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	queued := func(n int, within time.Duration, msg string) {
		t.Helper()
		require.Eventually(t, func() bool { return g.app.acd.QueueLen() == n }, within, 20*time.Millisecond, msg)
	}

	alive := make(chan error, 1)
	var aliveOut string
	go func() {
		var err error
		aliveOut, err = g.sippCall(ctx, t, "caller.xml", "-aa")
		alive <- err
	}()
	queued(1, 15*time.Second, "the first caller is queued")
	killCtx, kill := context.WithCancel(ctx)
	killed := make(chan struct{})
	go func() { defer close(killed); _, _ = g.sippCall(killCtx, t, "caller.xml", "-aa") }()
	queued(2, 15*time.Second, "the second caller is queued")
	time.Sleep(3500 * time.Millisecond) // three probes each, all answered
	require.Equal(t, 2, g.app.acd.QueueLen(), "callers whose phones answer the probes stay queued")

	kill() // SIGKILL: no CANCEL, no BYE, nothing answers at its address any more
	<-killed
	queued(1, 10*time.Second, "the killed caller leaves the queue after two unanswered probes")

	out, err := g.sippCall(ctx, t, "caller_probe_481.xml")
	require.NoError(t, err, "the caller answering 481 gets the call ended with 480: %s", out)
	require.Equal(t, 1, g.app.acd.QueueLen())
	m := g.metrics(t)
	require.Equal(t, 2.0, metricValue(m, `lianxin_calls_abandoned_total{line="12345"}`))

	s := g.seat(t, "seat-01")
	select {
	case err := <-alive:
		require.NoError(t, err, aliveOut)
	case <-ctx.Done():
		t.Fatal("the probed caller who stayed was never connected")
	}
	require.Len(t, s.Received(), 1, "the seat was rung for the one caller still there")
}
