package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Registration is where a seat's phone can be reached.
type Registration struct {
	Seat      string
	Contact   siplib.Uri
	Transport string
	Source    string
	Expires   time.Time
}

// registrar keeps seat registrations (RFC 3261 §10) behind digest authentication. Nonces
// are stateless (a timestamp signed with a per-process key), so a flood of REGISTERs
// without credentials costs no memory.
type registrar struct {
	realm      string
	creds      func(user string) (string, bool)
	now        func() time.Time
	minExpires time.Duration
	maxExpires time.Duration
	nonceTTL   time.Duration
	key        [32]byte
	onChange   func(seat string, registered bool)
	metrics    *Metrics

	mu   sync.Mutex
	regs map[string]Registration
}

func newRegistrar(cfg Config) *registrar {
	r := &registrar{realm: cfg.Realm, creds: cfg.Credentials, now: cfg.Now,
		minExpires: cfg.MinExpires, maxExpires: cfg.MaxExpires, nonceTTL: 5 * time.Minute,
		onChange: cfg.OnRegistration, metrics: cfg.Metrics, regs: map[string]Registration{}}
	_, _ = rand.Read(r.key[:])
	return r
}

func (r *registrar) nonce() string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(r.now().UnixNano()))
	m := hmac.New(sha256.New, r.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (r *registrar) nonceValid(n string) bool {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false
	}
	m := hmac.New(sha256.New, r.key[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false
	}
	age := r.now().Sub(time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))))
	return age >= 0 && age < r.nonceTTL
}

func (r *registrar) challenge(req *siplib.Request, stale bool) *siplib.Response {
	chal := digest.Challenge{Realm: r.realm, Nonce: r.nonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	res := siplib.NewResponseFromRequest(req, siplib.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(siplib.NewHeader("WWW-Authenticate", chal.String()))
	return res
}

// authenticate checks the request's digest credentials. It returns the authenticated
// user, or the response to send instead (401 challenge, 403 wrong password).
func (r *registrar) authenticate(req *siplib.Request) (string, *siplib.Response) {
	h := req.GetHeader("Authorization")
	if h == nil {
		r.metrics.register("challenged")
		return "", r.challenge(req, false)
	}
	if scheme, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " "); !strings.EqualFold(scheme, "Digest") {
		// A scheme we do not know is no wrong password: ask for one we know
		// (RFC 3261 §22.1, RFC 4475 regaut01).
		r.metrics.register("challenged")
		return "", r.challenge(req, false)
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		r.metrics.register("bad_request")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusBadRequest, "Malformed Authorization", nil)
	}
	if !r.nonceValid(cred.Nonce) {
		r.metrics.register("challenged")
		return "", r.challenge(req, true)
	}
	pass, ok := r.creds(cred.Username)
	if !ok || cred.Realm != r.realm {
		r.metrics.register("forbidden")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden", nil)
	}
	want, err := digest.Digest(&digest.Challenge{Realm: r.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm,
		QOP: qop(cred.QOP), Opaque: cred.Opaque}, digest.Options{
		Method: string(req.Method), URI: cred.URI, Username: cred.Username, Password: pass,
		Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || !hmac.Equal([]byte(want.Response), []byte(cred.Response)) {
		r.metrics.register("forbidden")
		return "", siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden", nil)
	}
	return cred.Username, nil
}

func qop(q string) []string {
	if q == "" {
		return nil
	}
	return []string{q}
}

// handle answers a REGISTER.
func (r *registrar) handle(req *siplib.Request) *siplib.Response {
	user, res := r.authenticate(req)
	if res != nil {
		return res
	}
	to := req.To()
	if to == nil || to.Address.User != user {
		r.metrics.register("forbidden")
		return siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden: may only register yourself", nil)
	}
	contacts := req.GetHeaders("Contact")
	if len(contacts) == 0 {
		return r.ok(req, user)
	}
	expires := r.maxExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return siplib.NewResponseFromRequest(req, siplib.StatusBadRequest, "Bad Expires", nil)
		}
		expires = time.Duration(n) * time.Second
	}
	contact, ok := contacts[0].(*siplib.ContactHeader)
	if !ok {
		return siplib.NewResponseFromRequest(req, siplib.StatusBadRequest, "Bad Contact", nil)
	}
	if contact.Address.Wildcard {
		expires = 0
	} else if v, ok := contact.Params.Get("expires"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return siplib.NewResponseFromRequest(req, siplib.StatusBadRequest, "Bad expires parameter", nil)
		}
		expires = time.Duration(n) * time.Second
	}
	if expires == 0 {
		r.remove(user)
		r.metrics.register("unregistered")
		return r.ok(req, user)
	}
	if expires < r.minExpires {
		res := siplib.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
		res.AppendHeader(siplib.NewHeader("Min-Expires", strconv.Itoa(int(r.minExpires/time.Second))))
		return res
	}
	expires = min(expires, r.maxExpires)
	r.mu.Lock()
	_, had := r.regs[user]
	r.regs[user] = Registration{Seat: user, Contact: *contact.Address.Clone(), Transport: req.Transport(),
		Source: req.Source(), Expires: r.now().Add(expires)}
	r.metrics.registered(len(r.regs))
	r.mu.Unlock()
	r.metrics.register("ok")
	if !had && r.onChange != nil {
		r.onChange(user, true)
	}
	return r.ok(req, user)
}

func (r *registrar) ok(req *siplib.Request, user string) *siplib.Response {
	res := siplib.NewResponseFromRequest(req, siplib.StatusOK, "OK", nil)
	r.mu.Lock()
	reg, ok := r.regs[user]
	r.mu.Unlock()
	if ok {
		secs := int(reg.Expires.Sub(r.now()).Round(time.Second) / time.Second)
		res.AppendHeader(siplib.NewHeader("Contact", fmt.Sprintf("<%s>;expires=%d", reg.Contact.String(), secs)))
	}
	res.AppendHeader(siplib.NewHeader("Date", r.now().UTC().Format(time.RFC1123)))
	return res
}

func (r *registrar) remove(user string) {
	r.mu.Lock()
	_, had := r.regs[user]
	delete(r.regs, user)
	r.metrics.registered(len(r.regs))
	r.mu.Unlock()
	if had && r.onChange != nil {
		r.onChange(user, false)
	}
}

// lookup returns a seat's live registration.
func (r *registrar) lookup(seat string) (Registration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.regs[seat]
	if !ok || !reg.Expires.After(r.now()) {
		return Registration{}, false
	}
	return reg, true
}

// expire drops registrations whose time is up.
func (r *registrar) expire() {
	now := r.now()
	var gone []string
	r.mu.Lock()
	for u, reg := range r.regs {
		if !reg.Expires.After(now) {
			gone = append(gone, u)
		}
	}
	r.mu.Unlock()
	for _, u := range gone {
		r.remove(u)
	}
}
