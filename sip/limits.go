package sip

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Security bounds what one source address can cost the gateway: request rates, digest
// guessing, TCP connections. Zero fields take the defaults of withDefaults.
type Security struct {
	// InviteRate and RegisterRate are each source address's token buckets for new
	// INVITEs and for REGISTERs; over them a request is answered 503 with Retry-After.
	InviteRate, RegisterRate RateLimit
	// NonceTTL is how long a digest nonce may be used (RFC 7616 §3.3: nonces are
	// counted and short-lived, so a captured REGISTER cannot be replayed).
	NonceTTL time.Duration
	// AuthMaxFailures failed digest checks from one address within AuthFailWindow block
	// its REGISTERs for AuthBlock.
	AuthMaxFailures int
	AuthFailWindow  time.Duration
	AuthBlock       time.Duration
	// TCPIdleTimeout closes a TCP connection that carries nothing for this long, unless a
	// live registration uses it.
	TCPIdleTimeout time.Duration
	// TCPMaxConnsPerSource bounds the TCP connections one untrusted address may hold
	// open, TCPMaxConns those of all addresses together.
	TCPMaxConnsPerSource int
	TCPMaxConns          int
	// Trusted addresses (a carrier trunk, the office NAT the seat phones share) are exempt
	// from the rate limits and the digest block.
	Trusted []netip.Prefix
	// MaxSources bounds the addresses remembered by each limiter (least recently seen are
	// forgotten first), so a flood from many addresses costs bounded memory.
	MaxSources int
}

// RateLimit is a token bucket: Burst requests at once, refilled at Rate per second. A
// negative Rate turns the limit off.
type RateLimit struct {
	Rate  float64
	Burst int
}

// withDefaults fills the zero fields.
func (s Security) withDefaults() Security {
	// One caller makes a call every few seconds, and a trunk belongs in Trusted; the
	// burst still lets a small PBX place a rush of calls.
	s.InviteRate = s.InviteRate.withDefaults(RateLimit{Rate: 5, Burst: 30})
	// A seat phone sends two REGISTERs (challenge, answer) per refresh: sixty phones
	// behind one NAT starting together fit the burst.
	s.RegisterRate = s.RegisterRate.withDefaults(RateLimit{Rate: 10, Burst: 120})
	if s.NonceTTL <= 0 {
		s.NonceTTL = 30 * time.Second
	}
	if s.AuthMaxFailures <= 0 {
		s.AuthMaxFailures = 20
	}
	if s.AuthFailWindow <= 0 {
		s.AuthFailWindow = time.Minute
	}
	if s.AuthBlock <= 0 {
		s.AuthBlock = 5 * time.Minute
	}
	if s.TCPIdleTimeout <= 0 {
		s.TCPIdleTimeout = 2 * time.Minute
	}
	if s.TCPMaxConnsPerSource <= 0 {
		// an office of TCP phones behind one NAT holds one connection per phone
		s.TCPMaxConnsPerSource = 256
	}
	if s.TCPMaxConns <= 0 {
		s.TCPMaxConns = 4096
	}
	if s.MaxSources <= 0 {
		s.MaxSources = 16384
	}
	return s
}

func (r RateLimit) withDefaults(d RateLimit) RateLimit {
	if r.Rate == 0 {
		r.Rate = d.Rate
	}
	if r.Burst <= 0 {
		r.Burst = d.Burst
	}
	return r
}

func (s Security) trusted(a netip.Addr) bool {
	for _, p := range s.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sourceAddr is the address a request came from (without the port, which NAT changes).
func sourceAddr(req *siplib.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// sourceKey is what the per-source limits count by: the address, or for IPv6 its /64,
// since one subscriber commonly holds a whole /64 and could otherwise walk through it.
func sourceKey(a netip.Addr) netip.Addr {
	if a.Is6() && !a.IsLoopback() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// limiter keeps a token bucket per source address, in bounded memory.
type limiter struct {
	rate  RateLimit
	now   func() time.Time
	mu    sync.Mutex
	state *simplelru.LRU[netip.Addr, bucket]
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate RateLimit, maxSources int, now func() time.Time) *limiter {
	l, _ := simplelru.NewLRU[netip.Addr, bucket](maxSources, nil)
	return &limiter{rate: rate, now: now, state: l}
}

// allow takes a token for src; when none is left it says how long until one is.
func (l *limiter) allow(src netip.Addr) (bool, time.Duration) {
	if l.rate.Rate < 0 {
		return true, 0
	}
	now := l.now()
	src = sourceKey(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.state.Get(src)
	if !ok {
		b = bucket{tokens: float64(l.rate.Burst), at: now}
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(float64(l.rate.Burst), b.tokens+el.Seconds()*l.rate.Rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		l.state.Add(src, b)
		return true, 0
	}
	l.state.Add(src, b)
	if l.rate.Rate == 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / l.rate.Rate * float64(time.Second))
}

// overLimit answers a request over its source's rate with 503 and Retry-After (RFC 3261
// §21.5.4), and reports whether it did.
func (s *Server) overLimit(l *limiter, req *siplib.Request, tx siplib.ServerTransaction) bool {
	src := s.source(req)
	if s.sec.trusted(src) {
		return false
	}
	ok, wait := l.allow(src)
	if ok {
		return false
	}
	s.cfg.Metrics.rateLimited(string(req.Method))
	s.cfg.Metrics.rejected(siplib.StatusServiceUnavailable)
	res := siplib.NewResponseFromRequest(req, siplib.StatusServiceUnavailable, "Service Unavailable (rate limit)", nil)
	res.AppendHeader(siplib.NewHeader("Retry-After", retryAfter(wait)))
	res.AppendHeader(siplib.NewHeader("Server", s.cfg.UserAgent))
	_ = tx.Respond(res)
	return true
}

// retryAfter is d in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
