package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

// The whole gateway's /metrics passes promtool's lint (names, units, _total counters, help).
func TestMetricsLint(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		testpeer.Unavailable(t, "promtool not installed (package prometheus; make test installs it)")
	}
	g := startGateway(t, nil)
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)
	body := g.metrics(t)
	for _, name := range []string{"lianxin_seat_state", "lianxin_calls_offered_total", "lianxin_queue_length",
		"lianxin_queue_wait_seconds", "lianxin_sip_registrations", "lianxin_rtp_packets_received_total",
		"lianxin_tap_frames_dropped_total", "lianxin_talk_seconds"} {
		require.True(t, strings.Contains(body, "# HELP "+name+" "), "metric %s is exposed", name)
	}
	f := filepath.Join(t.TempDir(), "metrics.txt")
	require.NoError(t, os.WriteFile(f, []byte(body), 0o644))
	in, err := os.Open(f)
	require.NoError(t, err)
	defer in.Close()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = in
	lint, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", lint)
	require.Empty(t, strings.TrimSpace(string(lint)))
}
