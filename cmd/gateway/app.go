package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"lianxin/asr"
	"lianxin/callflow"
	"lianxin/config"
	"lianxin/desk"
	"lianxin/media"
	"lianxin/ops"
	"lianxin/phones"
	"lianxin/seat"
	"lianxin/sip"
	"lianxin/store"
)

// App is one running gateway: it owns every part and the order they start and stop in.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	now     func() time.Time
	reg     *prometheus.Registry
	media   *media.Metrics
	ports   *media.PortAllocator
	mediaIP netip.Addr
	acd     *seat.ACD
	sip     *sip.Server
	https   []*http.Server
	httpLn  net.Listener
	asr     *asr.Registry
	desk    *desk.Desk
	store   store.Store
	// flow runs every call; Wire builds it.
	flow *callflow.Flow
	// engineWatchEvery is how often network engines are dialled to tell whether they are up.
	engineWatchEvery time.Duration
	// seatChanged is told of every seat state change once the screens are wired;
	// trunkChanged of every trunk registration's.
	seatChanged  func(seat.Change)
	trunkChanged func(sip.TrunkState)
	closers      []func() error

	// flowCfg is the call flow's config from the file; Wire adds the media IP and ports.
	flowCfg callflow.Config

	httpDone  sync.WaitGroup
	closeOnce sync.Once
}

// NewApp builds the gateway from its config; Start binds its listeners.
func NewApp(cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, now: time.Now, reg: prometheus.NewRegistry(), seatChanged: func(seat.Change) {},
		trunkChanged: func(sip.TrunkState) {}, engineWatchEvery: 30 * time.Second}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.media = media.NewMetrics(a.reg)
	var err error
	if a.mediaIP, err = cfg.MediaIP(); err != nil {
		return nil, err
	}
	a.ports = media.NewPortAllocator(media.PortRange{Min: cfg.Media.PortMin, Max: cfg.Media.PortMax})
	if a.flowCfg, err = cfg.ForFlow(); err != nil {
		return nil, err
	}
	a.acd, err = seat.New(cfg.ForACD(), seat.Options{Now: a.now, Metrics: seat.NewMetrics(a.reg), OnChange: func(c seat.Change) { a.seatChanged(c) }})
	if err != nil {
		return nil, err
	}
	sc, err := cfg.ForSIP()
	if err != nil {
		return nil, err
	}
	sc.Credentials = func(u string) (string, bool) {
		if !a.acd.Has(u) {
			return "", false
		}
		return cfg.SeatPassword(u)
	}
	sc.OnRegistration = func(s string, on bool) { _ = a.acd.SetRegistered(s, on) }
	sc.OnTrunkState = func(st sip.TrunkState) { a.trunkChanged(st) }
	sc.Logger, sc.Metrics = log, sip.NewMetrics(a.reg)
	if sc.TLSCertificate, err = cfg.SIPCertificate(log, a.now()); err != nil {
		return nil, err
	}
	if a.sip, err = sip.New(sc, a.handleCall); err != nil {
		return nil, err
	}
	return a, nil
}

// handleCall hands a SIP call to the call flow, which owns it until it ends.
func (a *App) handleCall(c *sip.InboundCall) {
	a.flow.Handle(callflow.Inbound{Caller: phones.Caller{InboundCall: c}, SIPCallID: c.CallID, Line: c.Number, From: c.From})
}

// Start binds SIP and HTTP and starts serving; Wire must have run.
func (a *App) Start(extra func(mux *http.ServeMux)) error {
	if a.flow == nil {
		return errors.New("gateway: Start before Wire")
	}
	if err := a.sip.Start(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", ops.Health(a.health))
	if a.cfg.HTTP.MetricsListen == "" {
		mux.Handle("GET /metrics", ops.Metrics(a.reg, a.cfg.HTTP.MetricsToken))
	} else {
		mm := http.NewServeMux()
		mm.HandleFunc("GET /healthz", ops.Health(a.health))
		mm.Handle("GET /metrics", ops.Metrics(a.reg, a.cfg.HTTP.MetricsToken))
		mln, err := a.serveHTTP(a.cfg.HTTP.MetricsListen, mm)
		if err != nil {
			return err
		}
		a.log.Info("metrics served apart", "metrics", "http://"+mln.Addr().String()+"/metrics")
	}
	if extra != nil {
		extra(mux)
	}
	ln, err := a.serveHTTP(a.cfg.HTTP.Listen, mux)
	if err != nil {
		return err
	}
	a.httpLn = ln
	started := []any{"sip", a.sip.Addr(), "http", ln.Addr().String(), "seats", a.cfg.Seats.Count, "trunks", len(a.cfg.Trunks)}
	if tls := a.sip.TLSAddr(); tls.IsValid() {
		started = append(started, "sip_tls", tls)
	}
	a.log.Info("gateway started", started...)
	if a.sip.Open() {
		a.log.Info("sip: calls are open: any source reaches every line (configure trunks, or sip.open: false, to close them)")
	}
	base := "http://" + ln.Addr().String()
	a.log.Info("screens: agents log in as their seat with its SIP password; admins as set in desk.admins, else admin with the password printed at first start",
		"agent_screen", base+"/", "wallboard", base+"/admin", "metrics", base+"/metrics",
		"seat_phones", fmt.Sprintf("sip:seat-01@%s … seat-%02d", a.sip.Addr(), a.cfg.Seats.Count))
	return nil
}

// serveHTTP listens on addr and serves h there until Close.
func (a *App) serveHTTP(addr string, h http.Handler) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", addr, err)
	}
	srv := a.cfg.HTTP.Server(h)
	a.https = append(a.https, srv)
	a.httpDone.Add(1)
	go func() {
		defer a.httpDone.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "addr", addr, "err", err)
		}
	}()
	return ln, nil
}

// health is what /healthz reports now.
func (a *App) health() ops.Status {
	st := ops.Status{ActiveCalls: a.sip.ActiveCalls(), Queue: a.acd.QueueLen(), Draining: a.sip.Draining()}
	if a.desk != nil {
		for _, p := range a.desk.Problems() {
			st.Problems = append(st.Problems, p)
		}
	}
	return st
}

// Drain stops taking new calls and waits for the active ones to finish or ctx to end.
func (a *App) Drain(ctx context.Context) error {
	a.sip.Drain()
	return a.sip.Wait(ctx)
}

// Close ends every call now and stops everything; it is idempotent.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		var errs []error
		if a.flow != nil {
			// ends every call now and waits for them and for the work they left
			errs = append(errs, a.flow.Close())
		}
		wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.sip.Wait(wait)
		for _, srv := range a.https {
			errs = append(errs, srv.Close())
		}
		a.httpDone.Wait()
		errs = append(errs, a.sip.Close(), a.acd.Close())
		for i := len(a.closers) - 1; i >= 0; i-- {
			errs = append(errs, a.closers[i]())
		}
		err = errors.Join(errs...)
	})
	return err
}
