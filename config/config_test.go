package config

import (
	"bytes"
	"io"
	"log/slog"
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
	cfg, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.Desk.Admins, 2, "only the configured admins: %v", cfg.Desk.Admins)
	require.NotContains(t, cfg.Desk.Admins, "admin")
	require.NotEqual(t, "day-shift", cfg.Desk.Admins["ops"], "no plain password is kept")
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(cfg.Desk.Admins["ops"]), []byte("day-shift")))
	require.Equal(t, string(hash), cfg.Desk.Admins["night"])
	require.Empty(t, Default().Desk.Admins, "no built-in admin")
}

var passwordLog = regexp.MustCompile(`password=(\S+)`)

// With no admin in the config, the first start makes one with a random password, keeps only
// its hash in a 0600 file of the data dir and logs the password once; later starts reuse it
// and log nothing.
func TestConfigAdminFirstStart(t *testing.T) {
	cfg := Default()
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

	quiet := Default()
	quiet.DataDir = t.TempDir()
	logs.Reset()
	_, err = quiet.deskAdmins(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError})))
	require.NoError(t, err)
	require.Regexp(t, passwordLog, logs.String(), "log_level error still shows the password once")

	require.NoError(t, os.WriteFile(path, []byte("admin:plain\n"), 0o600))
	_, err = cfg.deskAdmins(log)
	require.ErrorContains(t, err, "bcrypt", "a damaged file is an error, not an open door")
}

// On an HTTP listener other machines can reach, the built-in seat password is refused with
// a clear message; on loopback, or with a password of its own, the config is accepted.
func TestConfigRefusesDefaultSeatPasswordOffLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "192.0.2.7:8080", "gateway.example:8080"} {
		_, err := ParseServeFlags([]string{"--http-listen", listen, "--data-dir", t.TempDir()}, io.Discard)
		require.ErrorContains(t, err, "built-in password", listen)
		require.ErrorContains(t, err, "--seat-password", listen)
	}
	for _, args := range [][]string{
		{"--http-listen", "127.0.0.1:8080"}, {"--http-listen", "localhost:8080"}, {"--http-listen", "[::1]:8080"},
		{"--http-listen", "0.0.0.0:8080", "--seat-password", "not-the-default"},
	} {
		_, err := ParseServeFlags(args, io.Discard)
		require.NoError(t, err, strings.Join(args, " "))
	}
	p := writeConfig(t, "http: {listen: '0.0.0.0:8080'}\nseats: {count: 2, credentials: {seat-01: a1, seat-02: b2}}\n")
	_, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err, "every seat has its own password")
}

// desk.trusted_proxies and client_ip_header reach the desk; a bad entry is a config error.
func TestConfigTrustedProxies(t *testing.T) {
	p := writeConfig(t, "desk:\n  admins: {ops: day-shift}\n  trusted_proxies: [10.0.0.5, '192.168.0.0/16', '::1']\n  client_ip_header: X-Real-IP\n")
	cfg, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	dc, err := cfg.ForDesk(slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, "X-Real-IP", dc.ClientIPHeader)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("::1/128")}, dc.TrustedProxies)

	p = writeConfig(t, "desk:\n  trusted_proxies: [proxy.local]\n")
	_, err = ParseServeFlags([]string{"--config", p}, io.Discard)
	require.ErrorContains(t, err, "trusted_proxies")
}

// The queue is bounded by default: five callers per seat.
func TestMaxQueueDefault(t *testing.T) {
	cfg := Default()
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
	cfg, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	sec, err := cfg.SIP.security()
	require.NoError(t, err)
	require.Len(t, sec.Trusted, 2)
	require.Equal(t, 3, sec.InviteRate.Burst)
	require.Equal(t, 20*time.Second, sec.NonceTTL)
	require.Equal(t, time.Minute, sec.TCPIdleTimeout)

	bad := writeConfig(t, "sip:\n  trusted_sources: [not-an-address]\n")
	_, err = ParseServeFlags([]string{"--config", bad}, io.Discard)
	require.ErrorContains(t, err, "trusted_sources")
}

// workorder: and llm: are read as written; a delivery that could not be verified or sent is refused.
func TestWorkorderConfig(t *testing.T) {
	p := writeConfig(t, "workorder:\n  url: https://orders.example/api/v1/orders\n  secret: 0123456789abcdef0123\n  timeout: 5s\n  max_age: 48h\n"+
		"llm:\n  url: http://127.0.0.1:11434/v1\n  model: qwen2.5\n")
	cfg, err := ParseServeFlags([]string{"--config", p}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, WorkOrderConfig{URL: "https://orders.example/api/v1/orders", Secret: "0123456789abcdef0123",
		Timeout: 5 * time.Second, MaxAge: 48 * time.Hour}, cfg.WorkOrder)
	require.Equal(t, "qwen2.5", cfg.LLM.Model)
	for _, bad := range []string{
		"workorder:\n  url: orders.example\n  secret: 0123456789abcdef0123\n",
		"workorder:\n  url: https://orders.example\n  secret: short\n",
		"workorder:\n  url: https://orders.example\n  secret: 0123456789abcdef0123\n  max_age: -1h\n",
		"workorder:\n  endpoint: https://orders.example\n",
	} {
		_, err := ParseServeFlags([]string{"--config", writeConfig(t, bad)}, io.Discard)
		require.Error(t, err, bad)
	}
}

// media.g722 is on unless the config says otherwise.
func TestConfigG722(t *testing.T) {
	cfg := Default()
	require.True(t, cfg.g722())
	require.NoError(t, ReadFile(writeConfig(t, "media: {g722: false}\n"), &cfg))
	require.False(t, cfg.g722())
	require.NoError(t, ReadFile(writeConfig(t, "media: {g722: true}\n"), &cfg))
	require.True(t, cfg.g722())
}

// The RTCP interval and the thresholds that flag a call's audio come from media:, with
// defaults when the file leaves them out, and values that make no sense are refused.
func TestConfigCallQuality(t *testing.T) {
	cfg := Default()
	require.NoError(t, ReadFile(writeConfig(t, "media: {port_min: 30000, port_max: 30999}\n"), &cfg))
	require.Equal(t, 5*time.Second, cfg.Media.RTCPInterval)
	require.Equal(t, 3.5, cfg.Media.PoorMOS)
	require.Equal(t, 0.05, cfg.Media.PoorLoss)
	require.NoError(t, cfg.Validate())

	cfg = Default()
	require.NoError(t, ReadFile(writeConfig(t, "media: {rtcp_interval: 2s, poor_mos: 3.8, poor_loss: 0.02}\n"), &cfg))
	require.Equal(t, 2*time.Second, cfg.Media.RTCPInterval)
	require.Equal(t, 3.8, cfg.Media.PoorMOS)
	require.Equal(t, 0.02, cfg.Media.PoorLoss)
	require.NoError(t, cfg.Validate())

	for _, bad := range []string{"rtcp_interval: 10ms", "rtcp_interval: 2h", "poor_mos: 5", "poor_mos: 0.5", "poor_loss: 5", "poor_loss: 0"} {
		cfg = Default()
		require.NoError(t, ReadFile(writeConfig(t, "media: {"+bad+"}\n"), &cfg))
		err := cfg.Validate()
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), strings.Fields(bad)[0][:len(strings.Fields(bad)[0])-1], bad)
	}
}
