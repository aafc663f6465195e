package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

// A captured REGISTER, sent again, must not register anyone: the nonce count it carries
// has been used.
func TestDigestReplayRefused(t *testing.T) {
	s := startServer(t, nil)
	p := newUDPPeer(t, s.Addr().String())
	chal := p.challenge("seat-01")
	captured := p.register("seat-01", p.authorization(chal, "seat-01", testPassword, 1), 60)
	require.Equal(t, 200, p.do(captured).StatusCode)

	// The attacker replays it from elsewhere (a new branch, so not a retransmission) to
	// point the seat at their own phone.
	evil := newUDPPeer(t, s.Addr().String())
	replay := strings.Replace(captured, p.addr()+";branch=", evil.addr()+";branch=replay-", 1)
	replay = strings.Replace(replay, "<sip:seat-01@"+p.addr()+">", "<sip:seat-01@"+evil.addr()+">", 1)
	res := evil.do(replay)
	require.Equal(t, 401, res.StatusCode, "a replayed nonce count is challenged again")
	reg, ok := s.Registration("seat-01")
	require.True(t, ok)
	require.Equal(t, p.addr(), fmt.Sprintf("%s:%d", reg.Contact.Host, reg.Contact.Port), "the seat still points at its own phone")
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_register_requests_total", map[string]string{"result": "replayed"}))
}

// RFC 7616 lets a client reuse a nonce with a higher count while it is young; once it is
// old the answer is a challenge with stale=true, so the phone retries without asking its
// user for a password.
func TestDigestNonceCountAndLife(t *testing.T) {
	s := startServer(t, nil)
	p := newUDPPeer(t, s.Addr().String())
	chal := p.challenge("seat-02")
	require.Equal(t, []string{"auth"}, chal.QOP)
	require.Equal(t, 200, p.do(p.register("seat-02", p.authorization(chal, "seat-02", testPassword, 1), 60)).StatusCode)
	require.Equal(t, 200, p.do(p.register("seat-02", p.authorization(chal, "seat-02", testPassword, 2), 60)).StatusCode,
		"a higher nonce count on a young nonce is accepted")
	require.Equal(t, 401, p.do(p.register("seat-02", p.authorization(chal, "seat-02", testPassword, 2), 60)).StatusCode,
		"the same nonce count twice is not")

	s.clock.Advance(31 * time.Second)
	res := p.do(p.register("seat-02", p.authorization(chal, "seat-02", testPassword, 3), 60))
	require.Equal(t, 401, res.StatusCode, "a nonce older than its life is refused")
	fresh, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	require.NoError(t, err)
	require.True(t, fresh.Stale, "with stale=true, since the password was right")
	require.Equal(t, 200, p.do(p.register("seat-02", p.authorization(fresh, "seat-02", testPassword, 1), 60)).StatusCode)

	// A stale nonce with the wrong password is no "stale": it is a wrong password.
	s.clock.Advance(31 * time.Second)
	require.Equal(t, 403, p.do(p.register("seat-02", p.authorization(fresh, "seat-02", "guess", 2), 60)).StatusCode)
}

// Without qop there is no nonce count, and so no replay protection: such answers are refused.
func TestDigestWithoutQopRefused(t *testing.T) {
	s := startServer(t, nil)
	p := newUDPPeer(t, s.Addr().String())
	chal := p.challenge("seat-03")
	chal.QOP = nil
	res := p.do(p.register("seat-03", p.authorization(chal, "seat-03", testPassword, 1), 60))
	require.Equal(t, 403, res.StatusCode)
	_, ok := s.Registration("seat-03")
	require.False(t, ok)
}

// 1,000 wrong passwords from one address: only the first few are checked, then the
// address is blocked (503 with Retry-After), logged once with its address; other
// addresses go on registering; the block ends after its time.
func TestDigestGuessingBlocksSource(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Security.RegisterRate.Rate = -1 })
	attacker := newUDPPeer(t, s.Addr().String())
	codes := map[int]int{}
	chal := attacker.challenge("seat-04")
	for i := 0; i < 1000; i++ {
		res := attacker.do(attacker.register("seat-04", attacker.authorization(chal, "seat-04", fmt.Sprintf("guess%d", i), 1), 60))
		codes[res.StatusCode]++
		if res.StatusCode == 503 {
			require.NotNil(t, res.GetHeader("Retry-After"))
		}
	}
	require.Equal(t, map[int]int{403: 20, 503: 980}, codes, "20 guesses checked, then blocked")
	require.Equal(t, 503, attacker.do(attacker.register("seat-04", "", 60)).StatusCode, "blocked: not even challenged")
	require.Equal(t, 1, strings.Count(s.log.String(), "blocked after repeated digest failures"), s.log.String())
	require.Contains(t, s.log.String(), "source=127.0.0.1")
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_auth_blocks_total", nil))

	// A seat from another address is not blocked by it.
	other := "seat-05"
	a := newAuthHarness(t, s)
	require.Nil(t, a.register(other, "192.0.2.10:5060", testPassword), "another address registers")

	s.clock.Advance(5*time.Minute + time.Second)
	chal = attacker.challenge("seat-04")
	require.Equal(t, 200, attacker.do(attacker.register("seat-04", attacker.authorization(chal, "seat-04", testPassword, 1), 60)).StatusCode,
		"the block ends")
}

// authHarness drives the registrar directly, with any source address: loopback tests
// have only one.
type authHarness struct {
	t *testing.T
	r *registrar
}

func newAuthHarness(t *testing.T, s *testServer) *authHarness {
	return &authHarness{t: t, r: s.Server.reg}
}

// register runs the challenge and the answer from src; nil means 200 OK, else the response.
func (h *authHarness) register(seat, src, password string) *siplib.Response {
	h.t.Helper()
	req := h.request(seat, src, "")
	res := h.r.handle(req)
	if res.StatusCode != 401 {
		return res
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	require.NoError(h.t, err)
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: seat,
		Password: password, Count: 1})
	require.NoError(h.t, err)
	res = h.r.handle(h.request(seat, src, cred.String()))
	if res.StatusCode == 200 {
		return nil
	}
	return res
}

func (h *authHarness) request(seat, src, auth string) *siplib.Request {
	h.t.Helper()
	msg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + src + ";branch=z9hG4bK-1\r\n" +
		"From: <sip:" + seat + "@127.0.0.1>;tag=1\r\nTo: <sip:" + seat + "@127.0.0.1>\r\nCall-ID: h-" + seat + "\r\n" +
		"CSeq: 1 REGISTER\r\nContact: <sip:" + seat + "@" + src + ">\r\nExpires: 60\r\n"
	if auth != "" {
		msg += "Authorization: " + auth + "\r\n"
	}
	m, err := siplib.ParseMessage([]byte(msg + "Content-Length: 0\r\n\r\n"))
	require.NoError(h.t, err)
	req := m.(*siplib.Request)
	req.SetSource(src)
	req.SetTransport("UDP")
	return req
}

// Guessers from many addresses cost bounded memory: the failure counts are an LRU.
func TestDigestFailureMemoryBounded(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Security.MaxSources = 16 })
	h := newAuthHarness(t, s)
	for i := 0; i < 200; i++ {
		res := h.register("seat-06", fmt.Sprintf("198.51.100.%d:5060", i), "wrong")
		require.Equal(t, 403, res.StatusCode)
	}
	require.LessOrEqual(t, s.Server.reg.auth.fails.Len(), 16)
}

// The nonce use records are bounded too; a dropped record raises the floor, so its
// nonce is refused afterwards rather than replayable.
func TestDigestNonceRecordsBounded(t *testing.T) {
	s := startServer(t, nil)
	a := s.Server.reg.auth
	first := a.nonce()
	firstIssued, ok := a.issued(first)
	require.True(t, ok)
	require.Equal(t, nonceFresh, a.count(first, firstIssued, 1))
	for i := 0; i < maxNonceUses+10; i++ {
		s.clock.Advance(time.Millisecond)
		n := a.nonce()
		at, _ := a.issued(n)
		require.Equal(t, nonceFresh, a.count(n, at, 1))
	}
	require.LessOrEqual(t, len(a.used), maxNonceUses)
	require.NotEqual(t, nonceFresh, a.count(first, firstIssued, 1), "the first nonce's record was dropped: it is refused, not replayable")
}
