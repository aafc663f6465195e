package sip

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Junk over TCP is logged truncated and rate-limited: 200 connections each sending 33 KB
// of text (6.6 MB) must not write megabytes of it to the log.
func TestJunkInputLogBounded(t *testing.T) {
	s := startServer(t, nil)
	junk := "JUNK " + strings.Repeat("attacker-controlled-text ", 33*1024/25) + "\r\n\r\n"
	for i := 0; i < 200; i++ {
		c := dialTCP(t, s)
		_, err := c.Write([]byte(junk))
		require.NoError(t, err)
		// the server reads the junk and closes the connection: no more to parse
		require.True(t, closedByServer(t, c))
	}
	out := s.log.String()
	require.Less(t, len(out), 16*1024, "log of junk input bounded:\n%.2000s", out)
	for _, l := range strings.Split(out, "\n") {
		require.Less(t, len(l), 2*maxLogValue+512, "log line not truncated: %.300s", l)
	}
	require.Positive(t, s.counter(t, "lianxin_sip_log_suppressed_total", nil))
}

// The guard cuts long strings (including errors' text), passes other attributes, and
// after its burst logs one record per interval with the number it dropped.
func TestGuardLogger(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	log := guardLogger(slog.New(slog.NewTextHandler(&buf, nil)), clock.Now, nil).With("caller", "x")
	long := strings.Repeat("a", 10000)
	log.Error("bad", "data", long, "err", errors.New(long), "n", 7, slog.Group("g", "s", long))
	line := buf.String()
	require.Less(t, len(line), 4*maxLogValue+200)
	require.Contains(t, line, "[10000 bytes]")
	require.Contains(t, line, "n=7")
	require.Contains(t, line, "caller=x")
	for i := 0; i < 100; i++ {
		log.Error("bad")
	}
	require.Equal(t, logBurst, strings.Count(buf.String(), "msg=bad"))
	clock.Advance(logEvery)
	log.Error("bad")
	require.Contains(t, buf.String(), "suppressed=91")
	require.True(t, log.Enabled(context.Background(), slog.LevelInfo))
}
