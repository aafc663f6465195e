package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// writeConfig writes a YAML config into a temp dir and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(p, []byte(yaml), 0o600))
	return p
}

// Admins from the config replace the built-in ones: no admin/admin remains. Plain passwords
// are hashed as the file is read; bcrypt hashes are kept as given.
func TestConfigAdminsReplaceDefaults(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("night-shift"), bcrypt.MinCost)
	require.NoError(t, err)
	p := writeConfig(t, "desk:\n  admins:\n    ops: day-shift\n    night: '"+string(hash)+"'\n")
	cfg, err := parseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.Desk.Admins, 2, "only the configured admins: %v", cfg.Desk.Admins)
	require.NotContains(t, cfg.Desk.Admins, "admin")
	require.NotEqual(t, "day-shift", cfg.Desk.Admins["ops"], "no plain password is kept")
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(cfg.Desk.Admins["ops"]), []byte("day-shift")))
	require.Equal(t, string(hash), cfg.Desk.Admins["night"])
	require.Empty(t, defaultConfig().Desk.Admins, "no built-in admin")
}

var passwordLog = regexp.MustCompile(`password=(\S+)`)

// With no admin in the config, the first start makes one with a random password, keeps only
// its hash in a 0600 file of the data dir and logs the password once; later starts reuse it
// and log nothing.
func TestConfigAdminFirstStart(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	admins, err := cfg.deskAdmins(log)
	require.NoError(t, err)
	require.Len(t, admins, 1)
	m := passwordLog.FindStringSubmatch(logs.String())
	require.NotNil(t, m, "the password is shown at first start: %s", logs.String())
	password := m[1]
	require.GreaterOrEqual(t, len(password), 16)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(admins["admin"]), []byte(password)))

	path := filepath.Join(cfg.DataDir, adminFile)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(b), password, "the file keeps the hash only")

	logs.Reset()
	again, err := cfg.deskAdmins(log)
	require.NoError(t, err)
	require.Equal(t, admins, again)
	require.Empty(t, logs.String(), "a later start prints nothing")

	quiet := defaultConfig()
	quiet.DataDir = t.TempDir()
	logs.Reset()
	_, err = quiet.deskAdmins(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError})))
	require.NoError(t, err)
	require.Regexp(t, passwordLog, logs.String(), "log_level error still shows the password once")

	require.NoError(t, os.WriteFile(path, []byte("admin:plain\n"), 0o600))
	_, err = cfg.deskAdmins(log)
	require.ErrorContains(t, err, "bcrypt", "a damaged file is an error, not an open door")
}

// The wired gateway refuses admin/admin, with or without a config naming admins, and keeps
// its data dir and database private.
func TestConfigNoDefaultAdminLogin(t *testing.T) {
	for name, admins := range map[string]map[string]string{"first start": nil, "configured": {"ops": "day-shift"}} {
		t.Run(name, func(t *testing.T) {
			cfg := defaultConfig()
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
			require.Equal(t, http.StatusOK, login("seat-07", defaultSeatPassword), "seats log in with their seat credentials")
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

// On an HTTP listener other machines can reach, serve refuses the built-in seat password
// with a clear message and a non-zero exit; on loopback, or with a password of its own, the
// config is accepted.
func TestConfigRefusesDefaultSeatPasswordOffLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "192.0.2.7:8080", "gateway.example:8080"} {
		var stderr bytes.Buffer
		code := runServe(context.Background(), []string{"--http-listen", listen, "--data-dir", t.TempDir()}, io.Discard, &stderr)
		require.NotEqual(t, 0, code, listen)
		require.Contains(t, stderr.String(), "built-in password", listen)
		require.Contains(t, stderr.String(), "--seat-password", listen)
	}
	for _, args := range [][]string{
		{"--http-listen", "127.0.0.1:8080"}, {"--http-listen", "localhost:8080"}, {"--http-listen", "[::1]:8080"},
		{"--http-listen", "0.0.0.0:8080", "--seat-password", "not-the-default"},
	} {
		_, err := parseServeFlags(args, io.Discard)
		require.NoError(t, err, strings.Join(args, " "))
	}
	p := writeConfig(t, "http: {listen: '0.0.0.0:8080'}\nseats: {count: 2, credentials: {seat-01: a1, seat-02: b2}}\n")
	_, err := parseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err, "every seat has its own password")
}

// desk.trusted_proxies and client_ip_header reach the desk; a bad entry is a config error.
func TestConfigTrustedProxies(t *testing.T) {
	p := writeConfig(t, "desk:\n  admins: {ops: day-shift}\n  trusted_proxies: [10.0.0.5, '192.168.0.0/16', '::1']\n  client_ip_header: X-Real-IP\n")
	cfg, err := parseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	dc, err := cfg.deskConfig(slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, "X-Real-IP", dc.ClientIPHeader)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("::1/128")}, dc.TrustedProxies)

	p = writeConfig(t, "desk:\n  trusted_proxies: [proxy.local]\n")
	_, err = parseServeFlags([]string{"--config", p}, io.Discard)
	require.ErrorContains(t, err, "trusted_proxies")
}

// The RTCP interval and the thresholds that flag a call's audio come from media:, with
// defaults when the file leaves them out, and values that make no sense are refused.
func TestConfigCallQuality(t *testing.T) {
	cfg := defaultConfig()
	require.NoError(t, readConfigFile(writeConfig(t, "media: {port_min: 30000, port_max: 30999}\n"), &cfg))
	require.Equal(t, 5*time.Second, cfg.Media.RTCPInterval)
	require.Equal(t, 3.5, cfg.Media.PoorMOS)
	require.Equal(t, 0.05, cfg.Media.PoorLoss)
	require.NoError(t, cfg.validate())

	cfg = defaultConfig()
	require.NoError(t, readConfigFile(writeConfig(t, "media: {rtcp_interval: 2s, poor_mos: 3.8, poor_loss: 0.02}\n"), &cfg))
	require.Equal(t, 2*time.Second, cfg.Media.RTCPInterval)
	require.Equal(t, 3.8, cfg.Media.PoorMOS)
	require.Equal(t, 0.02, cfg.Media.PoorLoss)
	require.NoError(t, cfg.validate())

	for _, bad := range []string{"rtcp_interval: 10ms", "rtcp_interval: 2h", "poor_mos: 5", "poor_mos: 0.5", "poor_loss: 5", "poor_loss: 0"} {
		cfg = defaultConfig()
		require.NoError(t, readConfigFile(writeConfig(t, "media: {"+bad+"}\n"), &cfg))
		err := cfg.validate()
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), strings.Fields(bad)[0][:len(strings.Fields(bad)[0])-1], bad)
	}
}
