package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/internal/testpeer"
)

// A client that sends its headers and then stalls its body is cut off by the read
// timeout instead of holding a connection and a goroutine for good.
func TestHTTPStalledBodyCutOff(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.HTTP.ReadTimeout = 300 * time.Millisecond })
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
	g := startGateway(t, func(c *config.Config) { c.HTTP.MaxBodyBytes = 1024 })
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
	require.Equal(t, int64(1<<20), config.Default().HTTP.MaxBodyBytes)
}

// A seat phone registered before a restart is reachable right after it: its
// registration is restored from the data dir, not waited for until its next refresh.
func TestSeatRegistrationSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	shared := func(c *config.Config) { c.DataDir = dataDir }
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
	g := startGateway(t, func(c *config.Config) { c.HTTP.MetricsToken = "prom-s3cret" })
	require.Equal(t, http.StatusUnauthorized, get("http://"+g.http+"/metrics", ""))
	require.Equal(t, http.StatusUnauthorized, get("http://"+g.http+"/metrics", "guess"))
	require.Equal(t, http.StatusOK, get("http://"+g.http+"/metrics", "prom-s3cret"))

	ports := testpeer.FreeUDPPorts(t, 1)
	apart := fmt.Sprintf("127.0.0.1:%d", ports)
	g2 := startGateway(t, func(c *config.Config) { c.HTTP.MetricsListen = apart })
	require.Equal(t, http.StatusNotFound, get("http://"+g2.http+"/metrics", ""), "not beside the screens")
	require.Equal(t, http.StatusOK, get("http://"+apart+"/metrics", ""))
	require.Equal(t, http.StatusOK, get("http://"+apart+"/healthz", ""))
}

// The wired gateway refuses admin/admin, with or without a config naming admins, and keeps
// its data dir and database private.
func TestConfigNoDefaultAdminLogin(t *testing.T) {
	for name, admins := range map[string]map[string]string{"first start": nil, "configured": {"ops": "day-shift"}} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = filepath.Join(t.TempDir(), "data")
			cfg.ASR.Default = "none"
			cfg.SIP.Listen = "127.0.0.1:0"
			cfg.Desk.Admins = admins
			app, err := NewApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			t.Cleanup(func() { app.Close() })
			require.NoError(t, app.Wire())
			srv := httptest.NewServer(app.desk.Handler())
			t.Cleanup(srv.Close)
			login := func(user, pass string) int {
				b, _ := json.Marshal(map[string]string{"user": user, "password": pass})
				res, err := http.Post(srv.URL+"/api/login", "application/json", bytes.NewReader(b))
				require.NoError(t, err)
				res.Body.Close()
				return res.StatusCode
			}
			require.Equal(t, http.StatusUnauthorized, login("admin", "admin"))
			require.Equal(t, http.StatusOK, login("seat-07", config.DefaultSeatPassword), "seats log in with their seat credentials")
			if admins != nil {
				require.Equal(t, http.StatusOK, login("ops", "day-shift"))
			}
			for p, want := range map[string]os.FileMode{"": 0o700, "lianxin.db": 0o600} {
				fi, err := os.Stat(filepath.Join(cfg.DataDir, p))
				require.NoError(t, err)
				require.Equal(t, want, fi.Mode().Perm(), p)
			}
		})
	}
}

// serve refuses the built-in seat password on an HTTP listener other machines can reach
// with the config's message and a non-zero exit.
func TestServeRefusesDefaultSeatPasswordOffLoopback(t *testing.T) {
	var stderr bytes.Buffer
	code := runServe(context.Background(), []string{"--http-listen", "0.0.0.0:8080", "--data-dir", t.TempDir()}, io.Discard, &stderr)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr.String(), "built-in password")
	require.Contains(t, stderr.String(), "--seat-password")
}
