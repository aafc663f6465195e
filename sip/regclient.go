package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	siplib "github.com/emiago/sipgo/sip"
)

// TrunkRegistration keeps the gateway registered at a carrier's registrar (RFC 3261
// §10.2), so the carrier knows where to send the trunk's calls.
type TrunkRegistration struct {
	// Registrar is the registrar: an address, or a host name with a port (found by its
	// A/AAAA records), or a domain alone, whose SRV records name the registrars to try in
	// turn, falling back to its A/AAAA records at port 5060 (RFC 3263 §4.2).
	Registrar string
	// Transport is UDP (the default) or TCP.
	Transport string
	// Username names the account: the address of record is sip:Username@Domain and the
	// gateway's contact sip:Username@<its SIP address>.
	Username string
	// AuthUsername is the digest user when the carrier's differs from Username.
	AuthUsername string
	Password     string
	// Domain is the address of record's host; default the registrar's host.
	Domain string
	// Expires is the registration lifetime asked for (default 1h); the registrar's grant
	// wins, and the registration is refreshed before the granted time runs out.
	Expires time.Duration
	// RetryMin and RetryMax bound the wait after a failure (defaults 1s and 2m): it
	// doubles with each failure, with jitter, and a 503's Retry-After is honoured.
	RetryMin, RetryMax time.Duration
	// Timeout bounds one REGISTER and its challenge (default 10s).
	Timeout time.Duration
}

func (r *TrunkRegistration) validate() error {
	if r.Username == "" {
		return errors.New("a username is needed")
	}
	if _, _, err := r.registrar(); err != nil {
		return err
	}
	if t := strings.ToUpper(r.Transport); t != "" && t != "UDP" && t != "TCP" {
		return fmt.Errorf("transport %q: want udp or tcp", r.Transport)
	}
	if r.Expires < 0 || r.RetryMin < 0 || r.RetryMax < 0 || r.Timeout < 0 {
		return errors.New("expires, retry_min, retry_max and timeout must not be negative")
	}
	return nil
}

// registrar is the registrar's host and port (0 when it names none).
func (r *TrunkRegistration) registrar() (string, int, error) {
	host, port, err := net.SplitHostPort(r.Registrar)
	if err != nil {
		if host = strings.Trim(r.Registrar, "[]"); host != "" {
			return host, 0, nil
		}
	}
	p, perr := strconv.Atoi(port)
	if host == "" || perr != nil || p <= 0 || p > 65535 {
		return "", 0, fmt.Errorf("registrar %q: want an address, host:port or a domain", r.Registrar)
	}
	return host, p, nil
}

func (r *TrunkRegistration) contactUser() string { return r.Username }

func (r TrunkRegistration) withDefaults() TrunkRegistration {
	if r.Expires <= 0 {
		r.Expires = time.Hour
	}
	if r.RetryMin <= 0 {
		r.RetryMin = time.Second
	}
	if r.RetryMax <= 0 {
		r.RetryMax = 2 * time.Minute
	}
	r.RetryMax = max(r.RetryMax, r.RetryMin)
	if r.Timeout <= 0 {
		r.Timeout = 10 * time.Second
	}
	r.Transport = strings.ToUpper(r.Transport)
	if r.Transport == "" {
		r.Transport = "UDP"
	}
	if r.AuthUsername == "" {
		r.AuthUsername = r.Username
	}
	if r.Domain == "" {
		r.Domain, _, _ = r.registrar()
	}
	return r
}

// RegState is where a trunk's registration stands.
type RegState string

// Registration states. Failing is an attempt under way after a failure; BackingOff the
// wait before the next one.
const (
	RegRegistering  RegState = "registering"
	RegRegistered   RegState = "registered"
	RegFailing      RegState = "failing"
	RegBackingOff   RegState = "backing_off"
	RegUnregistered RegState = "unregistered"
)

var regStates = []RegState{RegRegistering, RegRegistered, RegFailing, RegBackingOff, RegUnregistered}

// TrunkState is a trunk registration's state, for /metrics and the wallboard.
type TrunkState struct {
	Trunk string
	State RegState
	// LastError is why the last attempt failed (empty after a success); LastStatus the
	// status its final response had (0: none came, a timeout or a transport error).
	LastError  string
	LastStatus int
	// Failures counts attempts failed in a row; FailuresTotal all of them; Registrations
	// the REGISTERs the registrar accepted, refreshes included.
	Failures, FailuresTotal, Registrations int
	// NextAttempt is when the next REGISTER goes out; Expires when the registration the
	// registrar granted runs out (zero: none).
	NextAttempt, Expires time.Time
	// Target is where the last attempt's REGISTER went: the registrar that holds the
	// registration once registered, the last one tried while failing (zero: none yet).
	Target RegistrarTarget
}

// Registered reports whether the registrar holds a live registration at t.
func (s TrunkState) Registered(t time.Time) bool {
	return s.State != RegUnregistered && t.Before(s.Expires)
}

// Health is the registration as a part of the gateway's health: settled is false while
// an attempt is under way (nothing to report); otherwise err says why registration is
// failing, with its next attempt, or is nil once it holds or was removed.
func (s TrunkState) Health() (settled bool, err error) {
	switch s.State {
	case RegBackingOff:
		var at string
		if !s.Target.IsZero() {
			at = " at " + s.Target.String()
		}
		return true, fmt.Errorf("registration failing (%d in a row)%s: %s; next attempt %s",
			s.Failures, at, s.LastError, s.NextAttempt.Local().Format(time.TimeOnly))
	case RegRegistered, RegUnregistered:
		return true, nil
	}
	return false, nil
}

// regError is a registrar's refusal.
type regError struct {
	status     int
	reason     string
	retryAfter time.Duration
}

func (e *regError) Error() string { return fmt.Sprintf("REGISTER answered %d %s", e.status, e.reason) }

// regClient keeps one trunk registered; the server owns its loop.
type regClient struct {
	trunk   string
	cfg     TrunkRegistration
	client  *sipgo.Client
	contact siplib.ContactHeader
	// laddr is the gateway's UDP listener, which UDP REGISTERs are sent from so that the
	// registrar sees the contact's own address (zero for TCP).
	laddr siplib.Addr
	// resolver finds the registrar's addresses.
	resolver *net.Resolver
	now      func() time.Time
	jitter   func() float64
	log      *slog.Logger
	notify   func(TrunkState)

	// callID, fromTag and cseq stay with the registration for its life (RFC 3261 §10.2.4).
	callID, fromTag string
	cseq            uint32
	expires         time.Duration
	// held is the registrar that accepted the last REGISTER, where the removal goes.
	held RegistrarTarget

	mu    sync.Mutex
	state TrunkState
}

func newRegClient(trunk string, cfg TrunkRegistration, client *sipgo.Client, contact siplib.ContactHeader,
	now func() time.Time, log *slog.Logger, notify func(TrunkState)) *regClient {
	cfg = cfg.withDefaults()
	if notify == nil {
		notify = func(TrunkState) {}
	}
	return &regClient{trunk: trunk, cfg: cfg, client: client, contact: contact, now: now, jitter: rand.Float64, resolver: net.DefaultResolver,
		log: log.With("trunk", trunk, "registrar", cfg.Registrar), notify: notify,
		callID: siplib.GenerateTagN(24), fromTag: siplib.GenerateTagN(16), cseq: 1, expires: cfg.Expires,
		state: TrunkState{Trunk: trunk, State: RegRegistering}}
}

// State is the registration's current state.
func (c *regClient) State() TrunkState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *regClient) update(f func(*TrunkState)) {
	c.mu.Lock()
	before, target := c.state.State, c.state.Target
	f(&c.state)
	st := c.state
	c.mu.Unlock()
	if st.State != before || st.State == RegBackingOff || st.Target != target {
		c.notify(st)
	}
}

// run registers, refreshes and retries until ctx ends, then unregisters.
func (c *regClient) run(ctx context.Context) {
	defer c.unregister()
	for {
		wait := c.attempt(ctx)
		if ctx.Err() != nil {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt sends one REGISTER and returns the wait until the next.
func (c *regClient) attempt(ctx context.Context) time.Duration {
	c.update(func(s *TrunkState) {
		if s.Failures > 0 {
			s.State = RegFailing
		}
	})
	asked := c.expires
	target, granted, err := c.registerAny(ctx, asked)
	if ctx.Err() != nil {
		return 0
	}
	now := c.now()
	if err == nil {
		c.held = target
		wait := refreshAfter(granted)
		st := c.State()
		c.update(func(s *TrunkState) {
			s.State, s.LastError, s.LastStatus, s.Failures = RegRegistered, "", siplib.StatusOK, 0
			s.Registrations++
			s.Expires, s.NextAttempt, s.Target = now.Add(granted), now.Add(wait), target
		})
		if st.State != RegRegistered || st.Target != target {
			c.log.Info("sip: trunk registered", "target", target, "expires", granted, "after_failures", st.Failures)
		}
		return wait
	}
	var re *regError
	if errors.As(err, &re) && re.status == 423 && c.expires != asked {
		return 0 // the registrar named the shortest lifetime it takes: ask for that at once
	}
	st := c.State()
	wait := c.backoff(st.Failures + 1)
	if errors.As(err, &re) && re.retryAfter > wait {
		wait = min(re.retryAfter, c.cfg.RetryMax)
	}
	c.update(func(s *TrunkState) {
		s.State, s.LastError, s.LastStatus, s.NextAttempt = RegBackingOff, err.Error(), 0, now.Add(wait)
		if re != nil {
			s.LastStatus = re.status
		}
		if !target.IsZero() {
			s.Target = target
		}
		s.Failures++
		s.FailuresTotal++
	})
	if st.Failures == 0 {
		c.log.Warn("sip: trunk registration failing; retrying with backoff", "target", target, "err", err, "retry_in", wait)
	} else {
		c.log.Debug("sip: trunk registration failed again", "target", target, "err", err, "failures", st.Failures+1, "retry_in", wait)
	}
	return wait
}

// registerAny looks the registrar up afresh and sends the REGISTER to each of its
// addresses in turn until one answers other than 503 (RFC 3263 §4.3), so that a carrier's
// backup registrar takes over while its first choice is down, and the first choice is
// back in use at the refresh after it returns. It returns the last address tried (zero
// when the lookup failed).
func (c *regClient) registerAny(ctx context.Context, expires time.Duration) (RegistrarTarget, time.Duration, error) {
	host, port, _ := c.cfg.registrar() // checked by validate
	lookup, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	targets, err := resolveRegistrar(lookup, c.resolver, host, port, c.cfg.Transport, c.family())
	cancel()
	if err != nil {
		return RegistrarTarget{}, 0, fmt.Errorf("registrar %s: %w", host, err)
	}
	var last RegistrarTarget
	for i, t := range targets {
		last = t
		granted, rerr := c.register(ctx, t, expires)
		if err = rerr; err == nil || ctx.Err() != nil || !failsOver(err) {
			return t, granted, err
		}
		if i+1 < len(targets) {
			c.log.Warn("sip: trunk registrar failed; trying the next", "target", t, "err", err, "next", targets[i+1])
		}
	}
	if len(targets) > 1 {
		err = fmt.Errorf("%w (each of %d addresses failed)", err, len(targets))
	}
	return last, 0, err
}

// failsOver reports whether a REGISTER's failure sends it on to the registrar's next
// address: no answer (a timeout or a transport error) or 503.
func failsOver(err error) bool {
	var re *regError
	return !errors.As(err, &re) || re.status == siplib.StatusServiceUnavailable
}

// family is the address family the registrar's addresses must have: a UDP REGISTER goes
// out of the gateway's first listener, which reaches only its own family unless it is an
// IPv6 wildcard.
func (c *regClient) family() string {
	switch {
	case c.cfg.Transport != "UDP" || c.laddr.IP == nil:
		return "ip"
	case c.laddr.IP.To4() != nil:
		return "ip4"
	case c.laddr.IP.IsUnspecified():
		return "ip"
	}
	return "ip6"
}

// backoff is the wait after the n-th failure in a row: RetryMin doubled n-1 times, at
// most RetryMax, of which a random part up to half is left out so that gateways that
// lost their registrar together do not come back to it together.
func (c *regClient) backoff(n int) time.Duration {
	d := c.cfg.RetryMin
	for i := 1; i < n && d < c.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.RetryMax)
	return d - time.Duration(c.jitter()*float64(d/2))
}

// refreshAfter is when to refresh a registration granted for d: halfway for a short one,
// 30 s before it runs out for a long one, so a failed refresh has time for retries.
func refreshAfter(d time.Duration) time.Duration {
	return d - min(d/2, 30*time.Second)
}

// unregister removes the registration (Expires: 0) if the registrar may still hold it.
func (c *regClient) unregister() {
	st := c.State()
	defer c.update(func(s *TrunkState) {
		s.State, s.NextAttempt, s.Expires = RegUnregistered, time.Time{}, time.Time{}
	})
	if !st.Registered(c.now()) || c.held.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(c.cfg.Timeout, 2*time.Second))
	defer cancel()
	if _, err := c.register(ctx, c.held, 0); err != nil {
		c.log.Warn("sip: trunk unregister failed", "target", c.held, "err", err)
		return
	}
	c.log.Info("sip: trunk unregistered", "target", c.held)
}

// register sends a REGISTER to target asking for expires (0 removes the contact),
// answers one challenge, and returns the lifetime the registrar granted.
func (c *regClient) register(ctx context.Context, target RegistrarTarget, expires time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req := c.request(target, expires)
	res, err := c.client.Do(ctx, req, sipgo.ClientRequestAddVia)
	if err == nil && (res.StatusCode == siplib.StatusUnauthorized || res.StatusCode == siplib.StatusProxyAuthRequired) {
		res, err = c.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: c.cfg.AuthUsername, Password: c.cfg.Password})
	}
	if cs := req.CSeq(); cs != nil {
		c.cseq = cs.SeqNo + 1
	}
	if err != nil {
		return 0, fmt.Errorf("REGISTER to %s: %w", target, err)
	}
	if res.StatusCode == 423 {
		if h := res.GetHeader("Min-Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
				c.expires = time.Duration(n) * time.Second
			}
		}
	}
	if !res.IsSuccess() {
		e := &regError{status: res.StatusCode, reason: res.Reason}
		if h := res.GetHeader("Retry-After"); h != nil {
			if n, err := strconv.Atoi(strings.Fields(h.Value() + " x")[0]); err == nil && n > 0 {
				e.retryAfter = time.Duration(n) * time.Second
			}
		}
		return 0, e
	}
	return c.granted(res, expires), nil
}

// request builds the next REGISTER of this registration, to go to target.
func (c *regClient) request(target RegistrarTarget, expires time.Duration) *siplib.Request {
	req := siplib.NewRequest(siplib.REGISTER, siplib.Uri{Scheme: "sip", Host: c.cfg.Domain})
	req.SetDestination(target.Addr.String())
	req.SetTransport(c.cfg.Transport)
	if c.cfg.Transport == "UDP" && c.laddr.IP != nil {
		req.Laddr = c.laddr
	}
	aor := siplib.Uri{Scheme: "sip", User: c.cfg.Username, Host: c.cfg.Domain}
	from := &siplib.FromHeader{Address: aor, Params: siplib.NewParams()}
	from.Params.Add("tag", c.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&siplib.ToHeader{Address: aor, Params: siplib.NewParams()})
	callID := siplib.CallIDHeader(c.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&siplib.CSeqHeader{SeqNo: c.cseq, MethodName: siplib.REGISTER})
	maxFwd := siplib.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	contact := c.contact.Clone()
	req.AppendHeader(contact)
	req.AppendHeader(siplib.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.SetBody(nil)
	return req
}

// granted is the lifetime a 2xx gives the gateway's contact: the expires parameter of its
// Contact in the answer, else the Expires header, else what was asked for.
func (c *regClient) granted(res *siplib.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*siplib.ContactHeader)
		if !ok || ch.Address.User != c.contact.Address.User || ch.Address.Host != c.contact.Address.Host ||
			ch.Address.Port != c.contact.Address.Port {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// startTrunks starts the registration of every trunk that registers, through client, with
// the gateway's SIP address as contact.
func (s *Server) startTrunks(client *sipgo.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stopTrunks = cancel
	for _, t := range s.inbound.trunks {
		if t.Register == nil {
			continue
		}
		contact := siplib.ContactHeader{Address: siplib.Uri{Scheme: "sip", User: t.Register.contactUser(), Host: s.host,
			Port: int(s.addr.Port())}}
		if strings.EqualFold(t.Register.Transport, "TCP") {
			contact.Address.UriParams = siplib.NewParams()
			contact.Address.UriParams.Add("transport", "tcp")
		}
		c := newRegClient(t.Name, *t.Register, client, contact, s.cfg.Now, s.log, s.cfg.OnTrunkState)
		c.laddr = siplib.Addr{IP: net.IP(s.addr.Addr().AsSlice()), Port: int(s.addr.Port())}
		c.resolver = s.cfg.Resolver
		s.trunkRegs = append(s.trunkRegs, c)
		s.trunkLoops.Go(func() { c.run(ctx) })
	}
	s.mu.Unlock()
}

// TrunkStates are the registering trunks' states, in configuration order.
func (s *Server) TrunkStates() []TrunkState {
	s.mu.Lock()
	regs := s.trunkRegs
	s.mu.Unlock()
	out := make([]TrunkState, 0, len(regs))
	for _, c := range regs {
		out = append(out, c.State())
	}
	return out
}
