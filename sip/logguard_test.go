package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Junk over TCP is logged truncated and rate-limited: 200 messages of 33 KB of text each
// (6.6 MB, on 20 connections) must not write megabytes of it to the log, even at debug
// level.
func TestJunkInputLogBounded(t *testing.T) {
	s := startServer(t, nil)
	s.level.Set(slog.LevelDebug)
	junk := "JUNK " + strings.Repeat("attacker-controlled-text ", 33*1024/25) + "\r\n\r\n"
	for i := 0; i < 20; i++ {
		c := dialTCP(t, s)
		p := &tcpPeer{t: t, c: c}
		for j := 0; j < 10; j++ {
			_, err := c.Write([]byte(junk))
			require.NoError(t, err)
			// an answer to what follows on the connection shows the junk has been read
			require.Equal(t, 200, p.options(fmt.Sprintf("%d-%d", i, j)))
		}
	}
	// responses matching nothing, with a 20 KB reason phrase each (what fits a UDP read)
	reason := strings.Repeat("attacker-reason ", 20*1024/16)
	u := newUDPPeer(t, s.Addr().String())
	for i := 0; i < 200; i++ {
		u.send(fmt.Sprintf("SIP/2.0 200 %s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-j%d\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"+
			"To: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: junk-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", reason, u.addr(), i, i))
	}
	require.Eventually(t, func() bool { return strings.Contains(s.log.String(), "matches no transaction") }, 10*time.Second,
		10*time.Millisecond, "unmatched responses are logged through the guard")
	require.Equal(t, 200, (&tcpPeer{t: t, c: dialTCP(t, s)}).options("after"), "still serving")
	out := s.log.String()
	require.Contains(t, out, "bytes]", "the reason phrase was cut")
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
