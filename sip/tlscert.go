package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// Files of the self-signed pair in the data dir.
const (
	SelfSignedCert = "sip-tls.crt"
	SelfSignedKey  = "sip-tls.key"
)

// selfSignedLife is how long a made certificate is valid: phones that pinned it must not
// find it expired, and an operator who wants rotation brings a pair of their own.
const selfSignedLife = 10 * 365 * 24 * time.Hour

// LoadOrCreateCertificate returns the gateway's TLS certificate: the PEM pair certFile and
// keyFile when they are given; otherwise the self-signed pair kept in dir, made at the
// first start (ECDSA P-256, naming hosts, readable by the owner only) and the same at
// every later one, so that phones which trust it keep trusting it. created says this call
// made it.
func LoadOrCreateCertificate(certFile, keyFile, dir string, hosts []string, now time.Time) (tls.Certificate, bool, error) {
	if (certFile == "") != (keyFile == "") {
		return tls.Certificate{}, false, errors.New("sip: tls certificate and key go together: give both or neither")
	}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, false, fmt.Errorf("sip: tls certificate: %w", err)
		}
		return c, false, nil
	}
	certFile, keyFile = filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, false, fmt.Errorf("sip: tls certificate made earlier: %w", err)
		}
		return c, false, nil
	case !errors.Is(certErr, fs.ErrNotExist) || !errors.Is(keyErr, fs.ErrNotExist):
		return tls.Certificate{}, false, fmt.Errorf("sip: %s and %s must both be there or both be gone (delete the other to make a new pair): %w",
			certFile, keyFile, errors.Join(certErr, keyErr))
	}
	certPEM, keyPEM, err := selfSigned(hosts, now)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("sip: tls certificate: %w", err)
	}
	// the key first: a crash between the two leaves no certificate without its key
	if err := writePrivate(keyFile, keyPEM); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writePrivate(certFile, certPEM); err != nil {
		return tls.Certificate{}, false, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, err == nil, err
}

// selfSigned makes a certificate that is its own authority, so that a phone can be given
// it as its CA file and verify the gateway with it.
func selfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Lianxin SIP gateway", Organization: []string{"Lianxin"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLife),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		h = strings.Trim(h, "[]")
		if ip, err := netip.ParseAddr(h); err == nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
			}
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// writePrivate writes b to path, owner-only, through a temporary file and a rename.
func writePrivate(path string, b []byte) error {
	if err := renameio.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("sip: tls certificate: %w", err)
	}
	return nil
}

// Fingerprint is the SHA-256 fingerprint of c's leaf certificate as phones and openssl
// show it ("AB:CD:…"), for an operator to compare with what a phone was told to trust.
func Fingerprint(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hexes, ":")
}
