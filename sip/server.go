// Package sip is the gateway's signalling on emiago/sipgo: UDP and TCP listeners, the
// seats' registrar (digest auth), and the two dialogs of each B2BUA call — the caller's
// (InboundCall) and the seat's (OutboundCall) — with SDP offer/answer and re-INVITE hold.
//
// sipgo is used through a fork in third_party/sipgo (go.mod replace): fixes to sipgo's own
// behaviour (UDP response size, TCP framing, transaction keys, parameter parsing) are
// patches there, since no code outside sipgo reaches those paths. What a UAS chooses to
// support (methods, URI schemes, extensions: RFC 3261 §8.2) is checked here, in
// checkRequest, and a request sipgo cannot parse gets its 400 from badRequestFilter.
// docs/sip.md has the reasons and the list of patches.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	siplib "github.com/emiago/sipgo/sip"
)

// Config is the signalling layer's configuration.
type Config struct {
	// Listen is the host:port for both UDP and TCP (port 0 picks one). More addresses
	// may follow after commas, e.g. "127.0.0.1:5060,[::1]:5060" to answer IPv6 phones
	// as well; the first is the one the gateway names in its Contact and Via, and an
	// extra address with port 0 takes the first one's port.
	Listen string
	// TLSListen is host:port for SIP over TLS (RFC 3261 §26.2), e.g. 127.0.0.1:5061; more
	// may follow after commas. Empty serves no TLS.
	TLSListen string
	// TLSCertificate is the gateway's certificate on TLSListen (LoadOrCreateCertificate).
	TLSCertificate *tls.Certificate
	// SeatPolicies is how each seat's phone must be reached (TLS, SRTP); CallerPolicies
	// how callers must reach each dialled number.
	SeatPolicies, CallerPolicies Policies
	// Realm for digest authentication.
	Realm string
	// UserAgent is sent in the User-Agent and Server headers.
	UserAgent string
	// Credentials returns a seat's digest password.
	Credentials func(user string) (password string, ok bool)
	// OnRegistration is told when a seat's registration starts or ends.
	OnRegistration func(seat string, registered bool)
	// Security bounds what one source address can cost (rates, guessing, connections).
	Security Security
	// Registrations keeps seat registrations across restarts; nil keeps them in memory.
	Registrations RegistrationStore
	// MinExpires and MaxExpires bound registration lifetimes.
	MinExpires, MaxExpires time.Duration
	// MaxCalls bounds concurrent calls; more get 503.
	MaxCalls int
	// Inbound says which new calls are taken: trunks, lines, open or not.
	Inbound Inbound
	// OnTrunkState is told when a trunk's registration changes state or registrar, and
	// at each failure while it backs off.
	OnTrunkState func(TrunkState)
	// Resolver finds trunk registrars by name (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// ForceRport answers UDP requests at their source port whatever port their Via
	// names (RFC 3581 rport without the phone asking), for phones behind NAT.
	ForceRport bool
	Now        func() time.Time
	Logger     *slog.Logger
	Metrics    *Metrics
}

// CallHandler owns one inbound call, as an http.Handler owns a request: when it returns
// the server ends whatever is left of the call (BYE if answered, a failure status if not).
type CallHandler func(*InboundCall)

// Server runs the SIP side of the gateway.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler CallHandler
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	dlgUA   *sipgo.DialogUA
	// dlgCaller is the side of callers' dialogs: its requests (a BYE, a probe) go back
	// where the INVITE came from when no proxy record-routed, not to a Contact that a
	// phone behind a NAT wrote with an address no one can reach (and over the TCP
	// connection the caller opened, not to a port it does not listen on).
	dlgCaller *sipgo.DialogUA
	reg       *registrar
	sec       Security
	// stack is what sipgo logs through: peer input in it is cut and rate-limited.
	stack   *slog.Logger
	source  func(*siplib.Request) netip.Addr
	invites *limiter
	regs    *limiter
	sdp     *sdpWriter
	host    string
	inbound *inbound

	// trunkRegs keep the trunks registered; stopTrunks ends them, and each unregisters.
	trunkRegs  []*regClient
	stopTrunks context.CancelFunc
	trunkLoops sync.WaitGroup

	lns   []listener
	addr  netip.AddrPort
	addrs []netip.AddrPort

	tlsLns  []net.Listener
	tlsAddr netip.AddrPort
	dlgTLS  *sipgo.DialogUA // nil without TLS

	mu      sync.Mutex
	dialogs map[string]inDialog

	active   atomic.Int64
	draining atomic.Bool
	calls    sync.WaitGroup
	loops    sync.WaitGroup
	stop     chan struct{}
	closed   atomic.Bool
}

// inDialog is what an in-dialog request (BYE, re-INVITE, ACK) is routed to.
type inDialog interface {
	bye(req *siplib.Request, tx siplib.ServerTransaction)
	reinvite(req *siplib.Request, tx siplib.ServerTransaction)
	ack(req *siplib.Request, tx siplib.ServerTransaction)
}

// ErrNotRegistered is returned by Dial for a seat with no live registration.
var ErrNotRegistered = errors.New("sip: seat not registered")

// New builds a server; Start binds it.
func New(cfg Config, handler CallHandler) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Realm == "" {
		cfg.Realm = "lianxin"
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Lianxin"
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 30 * time.Second
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = time.Hour
	}
	if cfg.Credentials == nil {
		cfg.Credentials = func(string) (string, bool) { return "", false }
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	in, err := newInbound(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Security.Trusted = append(append([]netip.Prefix(nil), cfg.Security.Trusted...), in.trusted()...)
	cfg.Security = cfg.Security.withDefaults()
	in.auth = in.newAuth(cfg)
	// sipgo logs what peers send; its records go through limits, ours do not
	sipgoLog := guardLogger(cfg.Logger, cfg.Now, cfg.Metrics)
	lim := func(r RateLimit) *limiter { return newLimiter(r, cfg.Security.MaxSources, cfg.Now) }
	addrs, err := listenAddrs(cfg.Listen)
	if err != nil {
		return nil, err
	}
	if err := checkTLSConfig(cfg); err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addrs[0])
	s := &Server{cfg: cfg, log: cfg.Logger, handler: handler, host: host,
		reg: newRegistrar(cfg), sdp: &sdpWriter{sessionID: rand.Uint64() >> 1},
		sec: cfg.Security, source: sourceAddr, stack: sipgoLog, invites: lim(cfg.Security.InviteRate), regs: lim(cfg.Security.RegisterRate),
		dialogs: map[string]inDialog{}, stop: make(chan struct{}), inbound: in, stopTrunks: func() {}}
	in.seatAt = s.reg.seatAt
	if cfg.Metrics != nil {
		cfg.Metrics.trunks.attach(s.TrunkStates, cfg.Now)
	}
	bad := &badRequestFilter{log: cfg.Logger, ua: cfg.UserAgent, metrics: cfg.Metrics}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(siplib.WithTransportLayerParseErrorHandler(bad.onParseError),
			siplib.WithTransportLayerForceRport(cfg.ForceRport), siplib.WithTransportLayerLogger(sipgoLog)),
		sipgo.WithUserAgentTransactionLayerOptions(siplib.WithTransactionLayerLogger(sipgoLog),
			siplib.WithTransactionLayerUnhandledResponseHandler(unmatchedResponse(sipgoLog))))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipgoLog))
	if err != nil {
		return nil, err
	}
	s.ua, s.srv = ua, srv
	srv.OnRegister(s.checked(s.onRegister))
	srv.OnOptions(s.checked(s.onOptions))
	srv.OnInvite(s.checked(s.onInvite))
	srv.OnAck(s.onAck)
	srv.OnBye(s.checked(s.onBye))
	srv.OnCancel(s.checked(func(req *siplib.Request, tx siplib.ServerTransaction) {
		s.respond(tx, req, siplib.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}))
	// Every other method: checkRequest answers 405 or 501.
	srv.OnNoRoute(s.checked(func(req *siplib.Request, tx siplib.ServerTransaction) {
		s.respond(tx, req, siplib.StatusNotImplemented, "Not Implemented")
	}))
	return s, nil
}

// Start binds UDP and TCP on the same port at every listen address and starts serving.
func (s *Server) Start() error {
	if err := s.restoreRegistrations(); err != nil {
		return err
	}
	addrs, _ := listenAddrs(s.cfg.Listen) // checked by New
	for _, a := range addrs {
		ln, ap, err := bind(a, s.addr.Port())
		if err != nil {
			for _, l := range s.lns {
				l.close()
			}
			s.lns, s.addrs, s.addr = nil, nil, netip.AddrPort{}
			return err
		}
		if len(s.lns) == 0 {
			s.addr = ap
		}
		s.lns, s.addrs = append(s.lns, ln), append(s.addrs, ap)
	}
	if err := s.bindTLS(); err != nil {
		for _, l := range s.lns {
			l.close()
		}
		s.closeTLS()
		s.lns, s.addrs, s.addr, s.tlsLns = nil, nil, netip.AddrPort{}, nil
		return err
	}
	ap := s.addr
	client, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.host), sipgo.WithClientLogger(s.stack))
	if err != nil {
		return err
	}
	contact := siplib.ContactHeader{Address: siplib.Uri{Scheme: "sip", User: "lianxin", Host: s.host, Port: int(ap.Port())}}
	s.dlgUA = &sipgo.DialogUA{Client: client, ContactHDR: contact}
	s.dlgCaller = &sipgo.DialogUA{Client: client, ContactHDR: contact, RewriteContact: true}
	for _, ln := range s.lns {
		s.loops.Add(2)
		go func() { defer s.loops.Done(); _ = s.srv.ServeUDP(ln.udp) }()
		go func() {
			defer s.loops.Done()
			_ = s.srv.ServeTCP(newTCPGuard(ln.tcp, s.sec, s.reg.usesConn, s.cfg.Metrics))
		}()
	}
	s.serveTLS(client)
	s.waitListening()
	s.startTrunks(client)
	if s.cfg.Registrations != nil {
		s.loops.Add(1)
		go func() { defer s.loops.Done(); s.storeLoop() }()
	}
	s.loops.Add(1)
	go func() { defer s.loops.Done(); s.expireLoop() }()
	return nil
}

// waitListening waits (up to a second) until sipgo serves each UDP listener, so that
// requests the gateway starts go out from its listening address. sipgo gives no signal
// when ServeUDP has taken a socket, so its connection pool is asked.
func (s *Server) waitListening() {
	tp := s.ua.TransportLayer()
	deadline := time.Now().Add(time.Second)
	for _, ap := range s.addrs {
		for time.Now().Before(deadline) {
			if _, err := tp.GetConnection("udp", ap.String()); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Addr is the bound SIP address (UDP and TCP), the first of Config.Listen.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Addrs are all the bound SIP addresses, in Config.Listen's order.
func (s *Server) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), s.addrs...) }

// Registration returns a seat's live registration.
func (s *Server) Registration(seat string) (Registration, bool) { return s.reg.lookup(seat) }

// Open reports whether calls from any source reach every line (Inbound.Open).
func (s *Server) Open() bool { return s.inbound.open }

// ActiveCalls is the number of calls being handled.
func (s *Server) ActiveCalls() int { return int(s.active.Load()) }

// Drain stops taking new calls (they get 503); calls in progress go on.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// Wait blocks until every call handler has returned or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close stops the listeners and the registrar; it is idempotent. Call handlers still
// running are not waited for: use Drain and Wait first for a graceful stop.
func (s *Server) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	// the trunks unregister while the transport still runs
	s.mu.Lock()
	stopTrunks := s.stopTrunks
	s.mu.Unlock()
	stopTrunks()
	s.trunkLoops.Wait()
	err := s.ua.Close()
	for _, ln := range s.lns {
		ln.close()
	}
	s.closeTLS()
	s.loops.Wait()
	return err
}

func (s *Server) expireLoop() {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.reg.expire()
		}
	}
}

func (s *Server) respond(tx siplib.ServerTransaction, req *siplib.Request, code int, reason string) {
	s.cfg.Metrics.rejected(code)
	res := siplib.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(siplib.NewHeader("Server", s.cfg.UserAgent))
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond failed", "code", code, "err", err)
	}
}

func (s *Server) onRegister(req *siplib.Request, tx siplib.ServerTransaction) {
	s.cfg.Metrics.request("REGISTER")
	if s.overLimit(s.regs, req, tx) {
		return
	}
	res := s.reg.handle(req)
	s.cfg.Metrics.rejected(res.StatusCode)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: REGISTER respond failed", "err", err)
	}
}

func (s *Server) onOptions(req *siplib.Request, tx siplib.ServerTransaction) {
	s.cfg.Metrics.request("OPTIONS")
	res := siplib.NewResponseFromRequest(req, siplib.StatusOK, "OK", nil)
	res.AppendHeader(siplib.NewHeader("Allow", allowedMethods))
	res.AppendHeader(siplib.NewHeader("Accept", "application/sdp"))
	_ = tx.Respond(res)
}

func (s *Server) dialog(id string) inDialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialogs[id]
}

func (s *Server) setDialog(id string, d inDialog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == nil {
		delete(s.dialogs, id)
	} else {
		s.dialogs[id] = d
	}
}

// match finds the dialog an in-dialog request belongs to, whichever side created it.
func (s *Server) match(req *siplib.Request) inDialog {
	if id, err := siplib.DialogIDFromRequestUAS(req); err == nil {
		if d := s.dialog(id); d != nil {
			return d
		}
	}
	if id, err := siplib.DialogIDFromRequestUAC(req); err == nil {
		if d := s.dialog(id); d != nil {
			return d
		}
	}
	return nil
}

func (s *Server) onAck(req *siplib.Request, tx siplib.ServerTransaction) {
	if d := s.match(req); d != nil {
		d.ack(req, tx)
	}
}

func (s *Server) onBye(req *siplib.Request, tx siplib.ServerTransaction) {
	s.cfg.Metrics.request("BYE")
	if d := s.match(req); d != nil {
		d.bye(req, tx)
		return
	}
	s.respond(tx, req, siplib.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

func (s *Server) onInvite(req *siplib.Request, tx siplib.ServerTransaction) {
	s.cfg.Metrics.request("INVITE")
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if d := s.match(req); d != nil {
			d.reinvite(req, tx)
			return
		}
		s.respond(tx, req, siplib.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if s.overLimit(s.invites, req, tx) {
		return
	}
	s.newCall(req, tx)
}
