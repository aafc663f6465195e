package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/icholy/digest"
)

// maxNonceUses bounds the nonces whose counts are remembered. Only a request with the
// right password adds one, so an attacker without a password cannot fill the table.
const maxNonceUses = 4096

// digestAuth checks digest credentials, a registrar's on REGISTER or a proxy's on a
// trunk's INVITE (see digestKind): qop=auth (RFC 3261 §22.4) and the nonce rules of
// RFC 7616 §3.3. A nonce is a timestamp signed with a per-process key, so
// challenging a flood costs no memory; it is valid for a short time, and the nonce count
// (nc) of each nonce that has authenticated a request must grow, so a captured request
// cannot be replayed. A source whose checks keep failing is blocked for a while.
type digestAuth struct {
	kind    digestKind
	realm   string
	creds   func(user string) (string, bool)
	now     func() time.Time
	sec     Security
	key     [32]byte
	log     *slog.Logger
	metrics *Metrics

	mu sync.Mutex
	// used is the highest nc accepted per nonce, for nonces still within their life.
	used map[string]nonceUse
	// floor: nonces issued at or before it are refused as stale, because their use
	// record may have been dropped to keep used bounded.
	floor time.Time
	fails *simplelru.LRU[netip.Addr, failures]
}

// digestKind is where a digest exchange happens: at a registrar (401, WWW-Authenticate,
// Authorization) or at a proxy (407, Proxy-Authenticate, Proxy-Authorization), and how
// its outcomes are counted.
type digestKind struct {
	status                      int
	reason                      string
	challengeHeader, credHeader string
	// requests names what a blocked source may no longer send, for the log.
	requests string
	count    func(result string)
}

// registrarDigest is the seats' REGISTER authentication.
func registrarDigest(m *Metrics) digestKind {
	return digestKind{status: siplib.StatusUnauthorized, reason: "Unauthorized", challengeHeader: "WWW-Authenticate",
		credHeader: "Authorization", requests: "REGISTERs", count: m.register}
}

// proxyDigest is a PBX trunk's INVITE authentication.
func proxyDigest(m *Metrics) digestKind {
	return digestKind{status: siplib.StatusProxyAuthRequired, reason: "Proxy Authentication Required",
		challengeHeader: "Proxy-Authenticate", credHeader: "Proxy-Authorization", requests: "trunk INVITEs", count: m.trunkAuth}
}

type nonceUse struct {
	issued time.Time
	nc     int
}

// failures counts one source's failed checks in the current window.
type failures struct {
	n            int
	since        time.Time
	blockedUntil time.Time
}

func newDigestAuth(kind digestKind, realm string, creds func(string) (string, bool), now func() time.Time, sec Security,
	log *slog.Logger, m *Metrics) *digestAuth {
	fails, _ := simplelru.NewLRU[netip.Addr, failures](sec.MaxSources, nil)
	a := &digestAuth{kind: kind, realm: realm, creds: creds, now: now, sec: sec, log: log, metrics: m,
		used: map[string]nonceUse{}, fails: fails}
	_, _ = rand.Read(a.key[:])
	return a
}

// nonce is the issue time and 8 random bytes (so two nonces of one instant differ),
// signed.
func (a *digestAuth) nonce() string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

const nonceLen = 8 + 8 + 16

// issued returns when this process made nonce n, or false if it did not.
func (a *digestAuth) issued(n string) (time.Time, bool) {
	if len(n) != base64.RawURLEncoding.EncodedLen(nonceLen) {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != nonceLen {
		return time.Time{}, false
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), true
}

func (a *digestAuth) challenge(req *siplib.Request, stale bool) *siplib.Response {
	chal := digest.Challenge{Realm: a.realm, Nonce: a.nonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	res := siplib.NewResponseFromRequest(req, a.kind.status, a.kind.reason, nil)
	res.AppendHeader(siplib.NewHeader(a.kind.challengeHeader, chal.String()))
	return res
}

// authenticate checks the request's digest credentials. It returns the authenticated
// user, or the response to send instead: 401 or 407 (a challenge, stale=true when only the
// nonce was too old or already counted), 403 (wrong credentials), 400, or 503 while the
// source is blocked.
func (a *digestAuth) authenticate(req *siplib.Request) (string, *siplib.Response) {
	src := sourceAddr(req)
	trusted := a.sec.trusted(src)
	if !trusted {
		if wait := a.blocked(src); wait > 0 {
			a.kind.count("blocked")
			res := siplib.NewResponseFromRequest(req, siplib.StatusServiceUnavailable, "Service Unavailable (blocked)", nil)
			res.AppendHeader(siplib.NewHeader("Retry-After", retryAfter(wait)))
			return "", res
		}
	}
	user, res, failed := a.check(req)
	if failed && !trusted {
		a.failed(src)
	}
	return user, res
}

// check verifies the credentials; failed says whether the request counts as a guess.
func (a *digestAuth) check(req *siplib.Request) (user string, res *siplib.Response, failed bool) {
	h := req.GetHeader(a.kind.credHeader)
	if h == nil || !digest.IsDigest(strings.TrimSpace(h.Value())) {
		// no credentials, or a scheme we do not know: ask for ours (RFC 3261 §22.1,
		// RFC 4475 regaut01)
		a.kind.count("challenged")
		return "", a.challenge(req, false), false
	}
	cred, err := digest.ParseCredentials(strings.TrimSpace(h.Value()))
	if err != nil {
		a.kind.count("bad_request")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusBadRequest, "Malformed "+a.kind.credHeader, nil), true
	}
	if alg := strings.ToUpper(cred.Algorithm); alg != "" && alg != "MD5" {
		a.kind.count("challenged")
		return "", a.challenge(req, false), false
	}
	issued, ours := a.issued(cred.Nonce)
	if !ours {
		// not a nonce of this process (or of one before a restart): a new challenge
		a.kind.count("challenged")
		return "", a.challenge(req, false), false
	}
	if !strings.EqualFold(cred.QOP, "auth") || cred.Nc <= 0 {
		// without qop there is no nonce count, so nothing stops a replay
		a.kind.count("forbidden")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden (qop=auth required)", nil), true
	}
	if !a.responseOK(req, cred) {
		a.kind.count("forbidden")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden", nil), true
	}
	switch a.count(cred.Nonce, issued, cred.Nc) {
	case nonceStale:
		// the password was right: the phone may simply answer a fresh nonce (RFC 7616 §3.3)
		a.kind.count("stale")
		return "", a.challenge(req, true), false
	case nonceReplayed:
		a.kind.count("replayed")
		return "", a.challenge(req, true), true
	}
	return cred.Username, nil, false
}

// responseOK recomputes the digest response with the user's password.
func (a *digestAuth) responseOK(req *siplib.Request, cred *digest.Credentials) bool {
	pass, ok := a.creds(cred.Username)
	if !ok || cred.Realm != a.realm {
		return false
	}
	want, err := digest.Digest(&digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm,
		QOP: []string{"auth"}, Opaque: cred.Opaque}, digest.Options{
		Method: string(req.Method), URI: cred.URI, Username: cred.Username, Password: pass,
		Cnonce: cred.Cnonce, Count: cred.Nc})
	return err == nil && hmac.Equal([]byte(want.Response), []byte(cred.Response))
}

type nonceVerdict int

const (
	nonceFresh nonceVerdict = iota
	nonceStale
	nonceReplayed
)

// count records nc as used for nonce, which must be young enough and counted higher than
// any request before it.
func (a *digestAuth) count(nonce string, issued time.Time, nc int) nonceVerdict {
	now := a.now()
	age := now.Sub(issued)
	a.mu.Lock()
	defer a.mu.Unlock()
	if age < 0 || age >= a.sec.NonceTTL || !issued.After(a.floor) {
		delete(a.used, nonce)
		return nonceStale
	}
	if u, ok := a.used[nonce]; ok {
		if nc <= u.nc {
			return nonceReplayed
		}
		a.used[nonce] = nonceUse{issued: issued, nc: nc}
		return nonceFresh
	}
	if len(a.used) >= maxNonceUses {
		a.evict(now)
	}
	a.used[nonce] = nonceUse{issued: issued, nc: nc}
	return nonceFresh
}

// evict drops the expired use records and, if that is not enough, the oldest one, raising
// the floor so its nonce can never be accepted again.
func (a *digestAuth) evict(now time.Time) {
	var oldest string
	for n, u := range a.used {
		if now.Sub(u.issued) >= a.sec.NonceTTL {
			delete(a.used, n)
		} else if oldest == "" || u.issued.Before(a.used[oldest].issued) {
			oldest = n
		}
	}
	if len(a.used) >= maxNonceUses && oldest != "" {
		if t := a.used[oldest].issued; t.After(a.floor) {
			a.floor = t
		}
		delete(a.used, oldest)
	}
}

// blocked says how long src stays blocked (0: not blocked).
func (a *digestAuth) blocked(src netip.Addr) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.fails.Peek(sourceKey(src))
	if !ok {
		return 0
	}
	return max(0, f.blockedUntil.Sub(a.now()))
}

// failed counts a failed check from src and blocks it at the limit, logging the block once.
func (a *digestAuth) failed(src netip.Addr) {
	now := a.now()
	a.mu.Lock()
	key := sourceKey(src)
	f, _ := a.fails.Get(key)
	if now.Sub(f.since) >= a.sec.AuthFailWindow || now.Before(f.since) {
		f = failures{since: now}
	}
	f.n++
	n, block := f.n, f.n >= a.sec.AuthMaxFailures
	if block {
		// counting starts again when the block does, so a source that goes on guessing
		// after it is blocked again
		f = failures{since: now, blockedUntil: now.Add(a.sec.AuthBlock)}
	}
	a.fails.Add(key, f)
	a.mu.Unlock()
	if block {
		a.metrics.blocked()
		a.log.Warn("sip: source blocked after repeated digest failures", "requests", a.kind.requests, "source", src.String(),
			"counted_as", key.String(), "failures", n, "within", a.sec.AuthFailWindow, "blocked_for", a.sec.AuthBlock)
	}
}
