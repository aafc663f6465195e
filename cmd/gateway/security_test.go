package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"lianxin/internal/testpeer"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A client that sends its headers and then stalls its body is cut off by the read
// timeout instead of holding a connection and a goroutine for good.
func TestHTTPStalledBodyCutOff(t *testing.T) {
	g := startGateway(t, func(c *Config) { c.HTTP.ReadTimeout = 300 * time.Millisecond })
	c, err := net.Dial("tcp", g.http)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: 1000\r\n\r\n{\"user\":")
	require.NoError(t, err)
	// generous bound: without a read timeout nothing ever comes back
	require.NoError(t, c.SetReadDeadline(time.Now().Add(15*time.Second)))
	_, err = io.ReadAll(c)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server still holds the stalled request")
}

// Request bodies are bounded for every handler: a valid login padded past the limit is
// refused, the same login unpadded is not.
func TestHTTPBodyLimit(t *testing.T) {
	g := startGateway(t, func(c *Config) { c.HTTP.MaxBodyBytes = 1024 })
	login := func(pad int) int {
		body := strings.Repeat(" ", pad) + `{"user":"` + testAdmin + `","password":"` + testAdminPassword + `"}`
		res, err := http.Post("http://"+g.http+"/api/login", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, login(0))
	require.NotEqual(t, http.StatusOK, login(4096), "a 4 KiB body is over the 1 KiB limit")
	require.Equal(t, time.Minute, g.app.https[0].WriteTimeout)
	require.Equal(t, 2*time.Minute, g.app.https[0].IdleTimeout)
	require.Equal(t, int64(1<<20), defaultConfig().HTTP.MaxBodyBytes)
}

// The queue is bounded by default: five callers per seat.
func TestMaxQueueDefault(t *testing.T) {
	cfg := defaultConfig()
	require.Equal(t, 300, cfg.maxQueue(), "5 × 60 seats")
	cfg.Seats.Count = 4
	require.Equal(t, 20, cfg.maxQueue())
	cfg.ACD.MaxQueue = 7
	require.Equal(t, 7, cfg.maxQueue())
	cfg.ACD.MaxQueue = -1
	require.Equal(t, 0, cfg.maxQueue(), "negative: no bound")
}

// The SIP limits are read from the config; a bad trusted source is refused.
func TestSIPSecurityConfig(t *testing.T) {
	p := writeConfig(t, "sip:\n  trusted_sources: [10.0.0.0/8, 192.0.2.7]\n  invite_rate: 1\n  invite_burst: 3\n"+
		"  nonce_ttl: 20s\n  tcp_idle_timeout: 1m\n")
	cfg, err := parseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	sec, err := cfg.SIP.security()
	require.NoError(t, err)
	require.Len(t, sec.Trusted, 2)
	require.Equal(t, 3, sec.InviteRate.Burst)
	require.Equal(t, 20*time.Second, sec.NonceTTL)
	require.Equal(t, time.Minute, sec.TCPIdleTimeout)

	bad := writeConfig(t, "sip:\n  trusted_sources: [not-an-address]\n")
	_, err = parseServeFlags([]string{"--config", bad}, io.Discard)
	require.ErrorContains(t, err, "trusted_sources")
}

// A seat phone registered before a restart is reachable right after it: its
// registration is restored from the data dir, not waited for until its next refresh.
func TestSeatRegistrationSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	shared := func(c *Config) { c.DataDir = dataDir }
	g := startGateway(t, shared)
	seat := g.seat(t, "seat-01")
	require.NoError(t, g.app.Close())

	g2 := startGateway(t, shared)
	require.Equal(t, "available", string(g2.app.acd.States()["seat-01"]), "seat-01 is registered at once")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g2.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, "the restored seat answers:\n%s", out)
	require.Eventually(t, func() bool { return len(seat.Received()) == 1 }, 15*time.Second, 50*time.Millisecond)
}

// /metrics shows every seat's state: with http.metrics_token it wants that bearer token;
// with http.metrics_listen it is served there and not beside the screens.
func TestMetricsAccess(t *testing.T) {
	get := func(url, tok string) int {
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	g := startGateway(t, func(c *Config) { c.HTTP.MetricsToken = "prom-s3cret" })
	require.Equal(t, http.StatusUnauthorized, get("http://"+g.http+"/metrics", ""))
	require.Equal(t, http.StatusUnauthorized, get("http://"+g.http+"/metrics", "guess"))
	require.Equal(t, http.StatusOK, get("http://"+g.http+"/metrics", "prom-s3cret"))

	ports := testpeer.FreeUDPPorts(t, 1)
	apart := fmt.Sprintf("127.0.0.1:%d", ports)
	g2 := startGateway(t, func(c *Config) { c.HTTP.MetricsListen = apart })
	require.Equal(t, http.StatusNotFound, get("http://"+g2.http+"/metrics", ""), "not beside the screens")
	require.Equal(t, http.StatusOK, get("http://"+apart+"/metrics", ""))
	require.Equal(t, http.StatusOK, get("http://"+apart+"/healthz", ""))
}
