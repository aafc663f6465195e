package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Draining (the first SIGTERM) refuses new calls with 503 and lets the active one finish.
func TestDrainFinishesActiveCalls(t *testing.T) {
	g := startGateway(t, nil)
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := make(chan error, 1)
	go func() { _, err := g.sippCall(ctx, t, "caller.xml"); first <- err }()
	require.Eventually(t, func() bool { return g.app.acd.States()["seat-01"] == "talking" }, 15*time.Second, 20*time.Millisecond)

	drained := make(chan error, 1)
	go func() { drained <- g.app.Drain(ctx) }()
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 1 }, time.Second, 10*time.Millisecond)
	out, err := g.sippCall(ctx, t, "caller_refused.xml")
	require.NoError(t, err, "a new call while draining gets 503:\n%s", out)
	res, err := http.Get("http://" + g.http + "/healthz")
	require.NoError(t, err)
	var health struct{ Status string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&health))
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "a draining gateway is not healthy for new calls")
	require.Equal(t, "draining", health.Status)
	select {
	case err := <-drained:
		t.Fatalf("drain returned (%v) while a call was still active", err)
	default:
	}
	require.NoError(t, <-first, "the active call runs to its end")
	require.NoError(t, <-drained)
	require.Equal(t, 0, g.app.sip.ActiveCalls())
}
