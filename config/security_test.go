package config

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/sip"
)

// readConfig parses src as a config file (and the flags' defaults).
func readConfig(t *testing.T, src string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	return ParseServeFlags([]string{"--config", path, "--data-dir", t.TempDir()}, io.Discard)
}

// The security settings read as the README shows them: a default and per-seat ones for
// seats, a default and per-line ones for callers, each key falling back to its default.
func TestSecurityConfig(t *testing.T) {
	cfg, err := readConfig(t, `
sip: {tls_listen: "127.0.0.1:5061", caller_security: {srtp: optional}}
seats:
  security:
    default: {tls: optional, srtp: optional}
    seat-07: {tls: required, srtp: required}
    seat-08: {srtp: off}
lines:
  - {number: "12345"}
  - {number: "12366", security: {srtp: required}}
`)
	require.NoError(t, err)
	seats := cfg.seatPolicies()
	require.Equal(t, sip.Policy{TLS: sip.TLSRequired, SRTP: sip.SRTPRequired}, seats.For("seat-07"))
	require.Equal(t, sip.Policy{TLS: sip.TLSOptional, SRTP: sip.SRTPOff}, seats.For("seat-08"))
	require.Equal(t, sip.Policy{TLS: sip.TLSOptional, SRTP: sip.SRTPOptional}, seats.For("seat-01"))
	callers := cfg.callerPolicies()
	require.Equal(t, sip.SRTPRequired, callers.For("12366").SRTP)
	require.Equal(t, sip.SRTPOptional, callers.For("12345").SRTP)
	require.Equal(t, sip.DefaultPolicy, Default().seatPolicies().For("seat-01"), "nothing configured: optional")
}

// Mistakes in the security settings are told with their line and the valid words.
func TestSecurityConfigErrors(t *testing.T) {
	for src, want := range map[string]string{
		"seats: {security: {seat-07: {tls: always}}}\n":          `line 1: unknown policy: tls "always" (valid: optional, required)`,
		"seats:\n  security:\n    seat-07: {srtp: on}\n":         `line 3: unknown policy: srtp "on" (valid: off, optional, required)`,
		"seats: {security: {seat-07: {tsl: required}}}\n":        `line 1: unknown key "tsl" in a security setting (valid keys: srtp, tls)`,
		"seats: {security: {seat-07: {srtp: [a]}}}\n":            `line 1: srtp is a policy name`,
		"seats: {security: {seat-07: required}}\n":               `line 1: a security setting is a mapping`,
		"seats: {security: {seat-99: {tls: optional}}}\n":        `seats: security names unknown seat "seat-99"`,
		"seats: {security: {seat-07: {tls: required}}}\n":        `seats: security requires TLS for seat-07 but sip.tls_listen is not set`,
		"lines: [{number: '1', security: {tls: required}}]\n":    `requires TLS (1) but sip.tls_listen is not set`,
		"sip: {tls_listen: '127.0.0.1:5061', tls_cert: a.pem}\n": `tls_cert and tls_key go together`,
		"sip: {tls_cert: a.pem, tls_key: b.pem}\n":               `tls_cert is set but tls_listen is not`,
		"sip: {tls_listen: '5061'}\n":                            `sip: tls_listen "5061"`,
	} {
		_, err := readConfig(t, src)
		require.ErrorContains(t, err, want, src)
		require.NotContains(t, err.Error(), "main.", src)
		require.NotContains(t, err.Error(), "sip.SRTPPolicy", src)
	}
}

// With tls_listen and no pair the first start makes a self-signed certificate in the data
// dir and logs its fingerprint; the next start uses the same one.
func TestSIPCertificateAtStart(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.SIP.TLSListen = "127.0.0.1:0"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	first, err := cfg.SIPCertificate(log, time.Now())
	require.NoError(t, err)
	require.Contains(t, logs.String(), "a self-signed certificate was made")
	require.Contains(t, logs.String(), sip.Fingerprint(*first))
	again, err := cfg.SIPCertificate(log, time.Now())
	require.NoError(t, err)
	require.Equal(t, sip.Fingerprint(*first), sip.Fingerprint(*again))
	require.Contains(t, logs.String(), "made earlier")
	cfg.SIP.TLSListen = ""
	none, err := cfg.SIPCertificate(log, time.Now())
	require.NoError(t, err)
	require.Nil(t, none, "no TLS, no certificate")
}
