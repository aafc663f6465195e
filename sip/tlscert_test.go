package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// With no pair configured the first start makes one in the data dir, owner-only, and
// every later start uses that same one: phones told to trust it keep trusting it.
func TestSelfSignedCertificateMadeOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	first, created, err := LoadOrCreateCertificate("", "", dir, []string{"127.0.0.1", "sip.example.cn", "0.0.0.0"}, now)
	require.NoError(t, err)
	require.True(t, created)
	for _, f := range []string{SelfSignedCert, SelfSignedKey} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	require.NoError(t, err)
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "an ECDSA key")
	require.Equal(t, elliptic.P256(), pub.Curve)
	require.Equal(t, []string{"sip.example.cn"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 1, "the wildcard address is no name of the gateway")
	require.True(t, leaf.IPAddresses[0].IsLoopback())
	require.True(t, leaf.NotAfter.After(now.Add(5*365*24*time.Hour)))
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "sip.example.cn", CurrentTime: now})
	require.NoError(t, err, "a phone given the certificate as its CA verifies the gateway")

	again, created, err := LoadOrCreateCertificate("", "", dir, []string{"10.0.0.9"}, now.Add(24*time.Hour))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, Fingerprint(first), Fingerprint(again), "the same certificate at the next start")
	require.Regexp(t, `^([0-9A-F]{2}:){31}[0-9A-F]{2}$`, Fingerprint(first))
}

// A configured pair is used as it is; a half pair is refused with the reason.
func TestConfiguredCertificate(t *testing.T) {
	made := t.TempDir()
	want, _, err := LoadOrCreateCertificate("", "", made, []string{"127.0.0.1"}, time.Now())
	require.NoError(t, err)
	cert, key := filepath.Join(made, SelfSignedCert), filepath.Join(made, SelfSignedKey)
	other := t.TempDir()
	got, created, err := LoadOrCreateCertificate(cert, key, other, nil, time.Now())
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, Fingerprint(want), Fingerprint(got))
	entries, err := os.ReadDir(other)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is made when a pair is given")

	_, _, err = LoadOrCreateCertificate(cert, "", other, nil, time.Now())
	require.ErrorContains(t, err, "give both or neither")
	_, _, err = LoadOrCreateCertificate(key, cert, other, nil, time.Now())
	require.Error(t, err, "certificate and key swapped")

	require.NoError(t, os.Remove(key))
	_, _, err = LoadOrCreateCertificate("", "", made, nil, time.Now())
	require.ErrorContains(t, err, "both be there or both be gone")
}
