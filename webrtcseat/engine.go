// Package webrtcseat makes a browser page a seat's phone. The page signals over the desk's
// authenticated WebSocket (offer/answer, trickle ICE); media runs on pion/webrtc with
// DTLS-SRTP. To the call flow a browser is one more callflow.SeatPhone: each answered call
// relays between the page's WebRTC audio (Opus or G.711) and the plain RTP address the flow
// gives in callflow.Ring.Local, a loopback hop in G.711, so the flow records, transcribes
// and bridges a browser seat exactly as it does a SIP phone.
//
// Supervisors (admin sessions) may listen to a live call (both sides mixed, receive-only)
// or whisper to the agent; whisper audio is mixed into what the agent hears only, never
// into what is relayed to the caller.
package webrtcseat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"lianxin/callflow"
)

// Errors a ring or a call ends with.
var (
	ErrNoPhone   = errors.New("webrtcseat: no browser is this seat's phone")
	ErrBusy      = errors.New("webrtcseat: the seat's browser is on another call")
	ErrRejected  = errors.New("webrtcseat: the agent declined the call")
	ErrPageGone  = errors.New("webrtcseat: the agent page went away while ringing")
	ErrHangup    = errors.New("webrtcseat: the agent hung up")
	ErrPhoneLost = errors.New("webrtcseat: the agent page did not come back in time")
	ErrClosed    = errors.New("webrtcseat: engine closed")
	ErrICEFailed = errors.New("webrtcseat: ICE failed")
)

// ICEServer is a STUN or TURN server the pages and the gateway may use.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Config is the browser phones' media configuration.
type Config struct {
	// PortMin and PortMax bound the UDP ports ICE binds, one per peer connection; zero
	// lets the system choose.
	PortMin, PortMax uint16
	// MuxPort, when set, carries every peer connection on this one UDP port (bound on
	// MuxIP, default every address): one firewall rule instead of a range.
	MuxPort int
	MuxIP   netip.Addr
	// PublicIPs replace the host candidates' addresses (NAT 1:1, e.g. a cloud VM's
	// public address in front of its private one).
	PublicIPs []string
	// ICEServers are optional STUN/TURN servers.
	ICEServers []ICEServer
	// Networks are the addresses candidates may use; empty allows every interface. A
	// loopback prefix allows loopback candidates (tests, a browser on the same host).
	Networks []netip.Prefix
	// Codecs are preferred first: "opus", "PCMU", "PCMA"; default all three in that order.
	Codecs []string
	// Grace is how long an answered call waits for its page to come back (a reload, a
	// network drop) before it ends; the caller hears silence meanwhile. Default 30s.
	Grace time.Duration
}

// Options are the engine's links to the rest of the gateway.
type Options struct {
	// OnPhone is told when a seat's browser phone comes (a page registers) and goes.
	OnPhone func(seat string, on bool)
	// OnMonitor is told when a supervisor starts or stops listening to or whispering on a
	// seat's call, for the audit log.
	OnMonitor  func(MonitorEvent)
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// MonitorEvent is one start or stop of a supervisor's listen or whisper.
type MonitorEvent struct {
	CallID     string // the flow's id of the call listened to
	Supervisor string
	Seat       string
	Mode       string // "listen" or "whisper"
	Started    bool   // false: it stopped
	At         time.Time
}

// Engine rings browser phones and relays their calls. It implements callflow.SeatPhone.
type Engine struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	m       *metrics
	apis    map[string]*webrtc.API // by mime type: one codec each, so the answer names one
	closers []func() error

	mu     sync.Mutex
	phones map[string]*Session  // seat -> the page that is its phone
	calls  map[string]*seatCall // seat -> its call, ringing or answered
	mons   map[string]*monitor  // id -> a supervisor's listen/whisper
	closed bool
	once   sync.Once
	// bg runs what must not run on a pion callback (closing a failed monitor)
	bg sync.WaitGroup
}

var _ callflow.SeatPhone = (*Engine)(nil)

// New builds an engine; Close releases its ports.
func New(cfg Config, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnPhone == nil {
		opts.OnPhone = func(string, bool) {}
	}
	if opts.OnMonitor == nil {
		opts.OnMonitor = func(MonitorEvent) {}
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = defaultCodecs
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	e := &Engine{cfg: cfg, opts: opts, log: opts.Logger, phones: map[string]*Session{},
		calls: map[string]*seatCall{}, mons: map[string]*monitor{}, apis: map[string]*webrtc.API{}}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	e.m = m
	se, err := e.settings()
	if err != nil {
		return nil, err
	}
	for _, name := range cfg.Codecs {
		p, err := capability(name)
		if err != nil {
			e.closeAll()
			return nil, err
		}
		me := &webrtc.MediaEngine{}
		if err := me.RegisterCodec(p, webrtc.RTPCodecTypeAudio); err != nil {
			e.closeAll()
			return nil, fmt.Errorf("webrtcseat: %w", err)
		}
		ir := &interceptor.Registry{}
		if err := webrtc.ConfigureRTCPReports(ir); err != nil {
			e.closeAll()
			return nil, fmt.Errorf("webrtcseat: %w", err)
		}
		e.apis[strings.ToLower(p.MimeType)] = webrtc.NewAPI(webrtc.WithSettingEngine(*se),
			webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	}
	return e, nil
}

// settings turns the config into pion's: ports or a mux, NAT 1:1, allowed networks.
func (e *Engine) settings() (*webrtc.SettingEngine, error) {
	se := &webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// a page that drops for a moment is disconnected quickly and restarts ICE itself
	se.SetICETimeouts(4*time.Second, 15*time.Second, time.Second)
	// no mDNS socket per connection: a page that has the microphone shows its addresses,
	// and its checks reach us as peer-reflexive candidates anyway
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	switch {
	case e.cfg.MuxPort > 0:
		ip := net.IPv4zero
		if e.cfg.MuxIP.IsValid() {
			ip = e.cfg.MuxIP.AsSlice()
		}
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: e.cfg.MuxPort})
		if err != nil {
			return nil, fmt.Errorf("webrtcseat: mux port: %w", err)
		}
		mux := webrtc.NewICEUDPMux(nil, conn)
		e.closers = append(e.closers, mux.Close)
		se.SetICEUDPMux(mux)
	case e.cfg.PortMin > 0 && e.cfg.PortMax >= e.cfg.PortMin:
		if err := se.SetEphemeralUDPPortRange(e.cfg.PortMin, e.cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtcseat: port range: %w", err)
		}
	}
	if len(e.cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: e.cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return nil, fmt.Errorf("webrtcseat: public IPs: %w", err)
		}
	}
	if nets := e.cfg.Networks; len(nets) > 0 {
		for _, p := range nets {
			if p.Addr().IsLoopback() {
				se.SetIncludeLoopbackCandidate(true)
			}
		}
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				return false
			}
			for _, p := range nets {
				if p.Contains(a.Unmap()) {
					return true
				}
			}
			return false
		})
	}
	return se, nil
}

// iceServers is the pion form of the configured servers.
func (e *Engine) iceServers() []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, s := range e.cfg.ICEServers {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// Phone reports whether a browser page is seat's phone now.
func (e *Engine) Phone(seat string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.phones[seat] != nil
}

// Ring offers the call to the seat's page and returns once the page has answered and its
// media is up, or with the context's cause when it did not answer in time.
func (e *Engine) Ring(ctx context.Context, r callflow.Ring) (callflow.SeatCall, error) {
	e.mu.Lock()
	s := e.phones[r.Seat]
	switch {
	case e.closed:
		e.mu.Unlock()
		return nil, ErrClosed
	case s == nil:
		e.mu.Unlock()
		return nil, ErrNoPhone
	case e.calls[r.Seat] != nil:
		e.mu.Unlock()
		return nil, ErrBusy
	}
	c, err := newSeatCall(e, r, s)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	e.calls[r.Seat] = c
	e.mu.Unlock()
	c.start()
	s.send(msgRing, c.ringData())
	select {
	case <-c.answered:
		e.m.answered.Inc()
		return c, nil
	case <-c.ctx.Done():
		err = context.Cause(c.ctx)
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	c.close(err)
	return nil, err
}

// register makes s its seat's phone (on) or stops it being one.
func (e *Engine) register(s *Session, on bool) {
	e.mu.Lock()
	cur := e.phones[s.seat]
	var tell bool
	var resume *seatCall
	switch {
	case on && cur != s:
		tell = cur == nil
		e.phones[s.seat] = s
		resume = e.calls[s.seat]
	case !on && cur == s:
		delete(e.phones, s.seat)
		tell = true
	}
	e.mu.Unlock()
	if on && cur != nil && cur != s {
		cur.send(msgStatus, statusData{Phone: false, Reason: "another page is now this seat's phone"})
	}
	if tell {
		e.opts.OnPhone(s.seat, on)
	}
	s.send(msgStatus, statusData{Phone: e.Phone(s.seat)})
	if resume != nil {
		resume.adopt(s)
	}
}

// sessionGone handles a closed socket: it stops being the phone, and its calls wait for
// it to come back (answered) or move on (ringing).
func (e *Engine) sessionGone(s *Session) {
	e.register(s, false)
	e.mu.Lock()
	c := e.calls[s.seat]
	var mons []*monitor
	for _, m := range e.mons {
		if m.s == s {
			mons = append(mons, m)
		}
	}
	e.mu.Unlock()
	if c != nil && s.seat != "" {
		c.pageGone(s)
	}
	for _, m := range mons {
		m.close()
	}
}

func (e *Engine) call(seat, id string) (*seatCall, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.calls[seat]
	if c == nil || (id != "" && c.id != id) {
		return nil, fmt.Errorf("webrtcseat: no call %q on %s", id, seat)
	}
	return c, nil
}

func (e *Engine) forget(c *seatCall) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls[c.seat] == c {
		delete(e.calls, c.seat)
	}
}

// Close ends every call and monitor and releases the ports. It is idempotent.
func (e *Engine) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		e.closed = true
		var calls []*seatCall
		for _, c := range e.calls {
			calls = append(calls, c)
		}
		var mons []*monitor
		for _, m := range e.mons {
			mons = append(mons, m)
		}
		e.mu.Unlock()
		for _, m := range mons {
			m.close()
		}
		for _, c := range calls {
			c.close(ErrClosed)
		}
		e.bg.Wait()
		e.closeAll()
	})
	return nil
}

func (e *Engine) closeAll() {
	for _, f := range e.closers {
		_ = f()
	}
	e.closers = nil
}

type metrics struct {
	answered, iceFailed, restarts prometheus.Counter
	peers                         prometheus.Gauge
	relay                         prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		answered: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_webrtc_calls_answered_total",
			Help: "Calls a browser phone answered."}),
		iceFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_webrtc_ice_failures_total",
			Help: "Peer connections whose ICE failed."}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_webrtc_reconnects_total",
			Help: "Answered calls a page took up again with a new offer (reload, ICE restart)."}),
		peers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lianxin_webrtc_peers",
			Help: "Open WebRTC peer connections (agents and supervisors)."}),
		relay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lianxin_webrtc_relay_seconds",
			Help:    "Time to transcode and forward one packet between WebRTC and the call's RTP leg.",
			Buckets: prometheus.ExponentialBuckets(0.000005, 2, 14)}), // 5 µs … 41 ms
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.answered, m.iceFailed, m.restarts, m.peers, m.relay} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("webrtcseat: metrics: %w", err)
		}
	}
	return m, nil
}
