package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Config mistakes are told in the config's own words: the section and its valid keys, the
// unit a duration wants; never Go type names.
func TestConfigErrorsSpeakConfig(t *testing.T) {
	for src, want := range map[string]string{
		"sip: {listen: 127.0.0.1:5060, relm: x}\n": `line 1: unknown key "relm" in sip (valid keys: auth_block, auth_max_failures, caller_security, invite_burst, invite_rate, listen, max_calls, nonce_ttl, open, realm, register_burst, register_rate, tcp_idle_timeout, tcp_max_conns_per_source, tls_cert, tls_key, tls_listen, trusted_sources)`,
		"acd: {ring_timeout: 15}\n":                `line 1: "15" is not a duration with its unit, e.g. 15s or 15ms`,
		"seats: 60\n":                              `line 1: "60" is not a mapping (the seats section)`,
		"lines:\n  - {number: '1', sets: [a]}\n":   `line 2: unknown key "sets" in lines (valid keys: asr, language, name, number, open, seats, security, survey)`,
		"colour: blue\n":                           `line 1: unknown key "colour" in the top level`,
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
		_, err := ParseServeFlags([]string{"--config", path}, io.Discard)
		require.ErrorContains(t, err, want, src)
		require.NotRegexp(t, `\w+\.\w*Config\b`, err.Error(), src, "no Go type names")
	}
}

// pii:reveal can only go to an admin, and the desk serves recordings from where the call
// flow writes them (none when recording is off).
func TestDeskConfigRevealAndRecordings(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Desk.Admins = map[string]string{"ops": "$2a$04$juv2KaWJ6yqFmVyuVfLaye/P04BM0JseKO6ftX1JGNXVe3BDoAAeS"}
	cfg.Desk.PIIReveal = []string{"ops"}
	dc, err := cfg.ForDesk(nil)
	require.NoError(t, err)
	require.Equal(t, []string{"ops"}, dc.PIIReveal)
	require.Equal(t, filepath.Join(cfg.DataDir, "recordings"), dc.RecordDir)

	off := false
	cfg.Media.Record = &off
	dc, err = cfg.ForDesk(nil)
	require.NoError(t, err)
	require.Empty(t, dc.RecordDir)

	cfg.Desk.PIIReveal = []string{"seat-01"}
	_, err = cfg.ForDesk(nil)
	require.ErrorContains(t, err, `pii_reveal names "seat-01", who is not an admin`)
}
