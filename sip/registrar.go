package sip

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"
)

// Registration is where a seat's phone can be reached.
type Registration struct {
	Seat      string
	Contact   siplib.Uri
	Transport string
	Source    string
	Expires   time.Time
}

// registrar keeps seat registrations (RFC 3261 §10) behind digest authentication (see
// digestAuth).
type registrar struct {
	auth       *digestAuth
	creds      func(user string) (string, bool)
	policies   Policies
	now        func() time.Time
	minExpires time.Duration
	maxExpires time.Duration
	onChange   func(seat string, registered bool)
	metrics    *Metrics
	// dirty is signalled (without blocking) when the registrations change, for the loop
	// that stores them.
	dirty chan struct{}

	mu   sync.Mutex
	regs map[string]Registration
}

func newRegistrar(cfg Config) *registrar {
	return &registrar{auth: newDigestAuth(registrarDigest(cfg.Metrics), cfg.Realm, cfg.Credentials, cfg.Now, cfg.Security, cfg.Logger, cfg.Metrics),
		creds: cfg.Credentials, policies: cfg.SeatPolicies, now: cfg.Now, minExpires: cfg.MinExpires, maxExpires: cfg.MaxExpires,
		onChange: cfg.OnRegistration, metrics: cfg.Metrics, dirty: make(chan struct{}, 1), regs: map[string]Registration{}}
}

// handle answers a REGISTER.
func (r *registrar) handle(req *siplib.Request) *siplib.Response {
	// before the challenge: a seat that must use TLS never has a digest answer in the
	// clear, for someone listening to try passwords against
	if to := req.To(); to != nil && !overTLS(req) && r.policies.For(to.Address.User).TLS == TLSRequired {
		r.metrics.register("tls_required")
		return siplib.NewResponseFromRequest(req, siplib.StatusForbidden, "Forbidden (TLS required)", nil)
	}
	user, res := r.auth.authenticate(req)
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
	r.changed()
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
	if had {
		r.changed()
	}
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

// seatAt reports whether source (address:port) is where a live seat registration came
// from.
func (r *registrar) seatAt(source string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, reg := range r.regs {
		if reg.Source == source && reg.Expires.After(now) {
			return true
		}
	}
	return false
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

// changed tells whoever stores the registrations that they changed; it never blocks.
func (r *registrar) changed() {
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}
