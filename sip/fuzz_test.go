package sip

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

// fuzzRegistrar is a registrar on a fixed clock with seat-01 (password testPassword).
func fuzzRegistrar() (*registrar, *fakeClock) {
	clock := newFakeClock()
	cfg := Config{Realm: "lianxin", Now: clock.Now, MinExpires: 30 * time.Second, MaxExpires: time.Hour,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Credentials: func(u string) (string, bool) { return testPassword, u == "seat-01" }}
	cfg.Security = Security{}.withDefaults()
	return newRegistrar(cfg), clock
}

// answers is every status the registrar may give.
var answers = map[int]bool{200: true, 400: true, 401: true, 403: true, 423: true, 503: true}

// FuzzRegister feeds whole REGISTER messages to the registrar: whatever parses must get
// one of its statuses, never a panic.
func FuzzRegister(f *testing.F) {
	r, _ := fuzzRegistrar()
	chal := &digest.Challenge{Realm: "lianxin", Nonce: r.auth.nonce(), Algorithm: "MD5", QOP: []string{"auth"}}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "seat-01",
		Password: testPassword, Count: 1})
	require.NoError(f, err)
	head := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
		"From: <sip:seat-01@127.0.0.1>;tag=1\r\nTo: <sip:seat-01@127.0.0.1>\r\nCall-ID: f1\r\nCSeq: 1 REGISTER\r\n"
	f.Add(head + "Contact: <sip:seat-01@127.0.0.1:5070>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")
	f.Add(head + "Contact: <sip:seat-01@127.0.0.1:5070>;expires=10\r\nAuthorization: " + cred.String() + "\r\nContent-Length: 0\r\n\r\n")
	f.Add(head + "Contact: *\r\nExpires: 0\r\nAuthorization: " + cred.String() + "\r\nContent-Length: 0\r\n\r\n")
	f.Add(head + "Contact: <sip:seat-01@127.0.0.1:5070>\r\nExpires: -1\r\nAuthorization: Basic Zm9vOmJhcg==\r\nContent-Length: 0\r\n\r\n")
	f.Fuzz(func(t *testing.T, msg string) {
		m, err := siplib.ParseMessage([]byte(msg))
		if err != nil {
			return
		}
		req, ok := m.(*siplib.Request)
		if !ok || req.Method != siplib.REGISTER {
			return
		}
		req.SetSource("127.0.0.1:5070")
		req.SetTransport("UDP")
		res := r.handle(req)
		require.True(t, answers[res.StatusCode], "status %d", res.StatusCode)
	})
}

// FuzzDigestCredentials feeds Authorization header values to the digest check.
func FuzzDigestCredentials(f *testing.F) {
	r, clock := fuzzRegistrar()
	chal := &digest.Challenge{Realm: "lianxin", Nonce: r.auth.nonce(), Algorithm: "MD5", QOP: []string{"auth"}}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "seat-01",
		Password: testPassword, Count: 1})
	require.NoError(f, err)
	f.Add(cred.String())
	f.Add(`Digest username="seat-01", realm="lianxin", nonce="x", uri="sip:a", response="00", qop=auth, nc=ffffffff, cnonce="c"`)
	f.Add(`Digest username="seat-01", nc=-1, qop=auth`)
	f.Add(`Digest ,,,="`)
	f.Add(`Basic abc`)
	base := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
		"From: <sip:seat-01@127.0.0.1>;tag=1\r\nTo: <sip:seat-01@127.0.0.1>\r\nCall-ID: f2\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:seat-01@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n"
	f.Fuzz(func(t *testing.T, auth string) {
		_, _ = digest.ParseCredentials(auth)
		m, err := siplib.ParseMessage([]byte(base))
		require.NoError(t, err)
		req := m.(*siplib.Request)
		req.SetSource("127.0.0.1:5070")
		req.AppendHeader(siplib.NewHeader("Authorization", auth))
		_, res := r.auth.authenticate(req)
		if res != nil {
			require.True(t, answers[res.StatusCode], "status %d", res.StatusCode)
		}
		// a failure block must not outlive its time: move on so the source stays testable
		clock.Advance(time.Minute)
	})
}

// FuzzBadRequestFilter feeds raw datagrams that sipgo's parser refuses to the handler that
// answers unparseable requests with 400. Whatever comes in, the 400 it answers with is one
// well-framed response (its lines end in CRLF, so nothing the sender
// wrote can start a header or a body of its own), no larger than the request plus its own
// few lines (no amplification). It echoes the sender's headers as RFC 3261 §8.2.6 says,
// malformed ones included, so it need not parse itself.
func FuzzBadRequestFilter(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/rfc4475/*.dat")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c1\r\nCSeq: x\r\n\r\n"))
	f.Add([]byte("garbage"))
	parser := siplib.NewParser()
	bf := &badRequestFilter{log: slog.New(slog.NewTextHandler(io.Discard, nil)), ua: "lianxin"}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, perr := parser.ParseSIP(data)
		if perr == nil {
			return // sipgo takes it; the handler never sees it
		}
		var reply []byte
		bf.onParseError(siplib.TransportReadProps{Transport: "udp", Reply: func(b []byte) error {
			reply = append([]byte(nil), b...)
			return nil
		}}, data, perr)
		if reply == nil {
			return
		}
		require.LessOrEqual(t, len(reply), len(data)+200, "a 400 is no amplifier")
		require.True(t, bytes.HasPrefix(reply, []byte("SIP/2.0 400 Bad Request\r\n")), "%q", reply)
		require.True(t, bytes.HasSuffix(reply, []byte("\r\n\r\n")), "%q", reply)
		head := reply[:len(reply)-4]
		require.NotContains(t, string(head), "\r\n\r\n", "one header block: %q", reply)
		for _, l := range bytes.Split(head, []byte("\r\n")) {
			require.NotContains(t, string(l), "\n", "no bare LF starts a line: %q", reply)
			require.NotContains(t, string(l), "\r", "no bare CR: %q", reply)
		}
	})
}
