package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/media"
	"lianxin/seat"
	"lianxin/sip"
	"lianxin/store"
)

// App is one running gateway: it owns every part and the order they start and stop in.
type App struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	reg      *prometheus.Registry
	metrics  *appMetrics
	media    *media.Metrics
	clock    *media.Clock
	ports    *media.PortAllocator
	mediaIP  netip.Addr
	acd      *seat.ACD
	sip      *sip.Server
	http     *http.Server
	httpLn   net.Listener
	observer callObserver
	taps     tapFactory
	asr      *asr.Registry
	desk     *desk.Desk
	store    store.Store
	sink     transcriptSink
	agents   *agentLegs
	hotwords []string
	closers  []func() error
	// bg holds work that outlives a call (transcribing a leg from its recording).
	bg sync.WaitGroup

	holdMusic []int16

	hardStop  context.Context
	stopNow   context.CancelCauseFunc
	httpDone  sync.WaitGroup
	closeOnce sync.Once
}

type appMetrics struct {
	offered, answered, abandoned, failed *prometheus.CounterVec
	talk                                 prometheus.Histogram
}

func newAppMetrics(reg prometheus.Registerer) *appMetrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"line"})
	}
	m := &appMetrics{
		offered:   vec("lianxin_calls_offered_total", "Calls that reached the gateway."),
		answered:  vec("lianxin_calls_answered_total", "Calls a seat answered."),
		abandoned: vec("lianxin_calls_abandoned_total", "Calls the caller left before a seat answered."),
		failed:    vec("lianxin_calls_failed_total", "Calls that ended with a failure status (queue timeout, no media port…)."),
		talk: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lianxin_talk_seconds",
			Help: "Talk time of answered calls.", Buckets: []float64{10, 30, 60, 120, 180, 300, 600, 1200, 1800}}),
	}
	reg.MustRegister(m.offered, m.answered, m.abandoned, m.failed, m.talk)
	return m
}

// NewApp builds the gateway from its config; Start binds its listeners.
func NewApp(cfg Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, now: time.Now, reg: prometheus.NewRegistry(), hotwords: cfg.ASR.Hotwords}
	a.hardStop, a.stopNow = context.WithCancelCause(context.Background())
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = newAppMetrics(a.reg)
	a.agents = newAgentLegs(a.reg)
	a.media = media.NewMetrics(a.reg)
	// sip listen may name more addresses after commas; the first is the gateway's own.
	host, _, err := net.SplitHostPort(strings.TrimSpace(strings.Split(cfg.SIP.Listen, ",")[0]))
	if err != nil {
		return nil, fmt.Errorf("sip listen %q: %w", cfg.SIP.Listen, err)
	}
	ipStr := cfg.Media.IP
	if ipStr == "" {
		ipStr = host
	}
	if a.mediaIP, err = netip.ParseAddr(ipStr); err != nil {
		return nil, fmt.Errorf("media ip %q: %w", ipStr, err)
	}
	a.ports = media.NewPortAllocator(media.PortRange{Min: cfg.Media.PortMin, Max: cfg.Media.PortMax})
	if a.holdMusic, err = loadHoldMusic(cfg.ACD.HoldMusic); err != nil {
		return nil, err
	}
	a.observer = nopObserver{}
	a.acd, err = seat.New(seat.Config{Seats: cfg.seatIDs(), Lines: cfg.lineSeats(), WrapUp: cfg.ACD.WrapUp,
		MaxWait: cfg.ACD.MaxWait, MaxQueue: cfg.ACD.MaxQueue},
		seat.Options{Now: a.now, Metrics: seat.NewMetrics(a.reg), OnChange: func(c seat.Change) { a.observer.seatChanged(c) }})
	if err != nil {
		return nil, err
	}
	a.sip, err = sip.New(sip.Config{Listen: cfg.SIP.Listen, Realm: cfg.SIP.Realm, MaxCalls: cfg.SIP.MaxCalls,
		Credentials: func(u string) (string, bool) {
			if !a.acd.Has(u) {
				return "", false
			}
			return cfg.seatPassword(u)
		},
		OnRegistration: func(s string, on bool) { _ = a.acd.SetRegistered(s, on) },
		Logger:         log, Metrics: sip.NewMetrics(a.reg)}, a.handleCall)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Start binds SIP and HTTP and starts serving.
func (a *App) Start(extra func(mux *http.ServeMux)) error {
	a.clock = media.NewClock()
	if err := a.sip.Start(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","active_calls":%d,"queue":%d}`+"\n", a.sip.ActiveCalls(), a.acd.QueueLen())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	if extra != nil {
		extra(mux)
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", a.cfg.HTTP.Listen, err)
	}
	a.httpLn = ln
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.httpDone.Add(1)
	go func() {
		defer a.httpDone.Done()
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	}()
	a.log.Info("gateway started", "sip", a.sip.Addr(), "http", ln.Addr().String(), "seats", a.cfg.Seats.Count)
	return nil
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
		a.stopNow(errShutdown)
		wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.sip.Wait(wait)
		var errs []error
		if a.http != nil {
			errs = append(errs, a.http.Close())
			a.httpDone.Wait()
		}
		errs = append(errs, a.sip.Close(), a.acd.Close())
		a.bg.Wait()
		for i := len(a.closers) - 1; i >= 0; i-- {
			errs = append(errs, a.closers[i]())
		}
		if a.clock != nil {
			a.clock.Close()
		}
		err = errors.Join(errs...)
	})
	return err
}

func (a *App) newCallID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return a.now().UTC().Format("20060102-150405-") + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])[:8])
}

// lineSeats is the ACD's view of the skill lines.
func (c Config) lineSeats() map[string][]string {
	out := map[string][]string{}
	for _, l := range c.Lines {
		if len(l.Seats) > 0 {
			out[l.Number] = l.Seats
		}
	}
	return out
}

type nopObserver struct{}

func (nopObserver) seatChanged(seat.Change)            {}
func (nopObserver) callOffered(*callInfo)              {}
func (nopObserver) callAnswered(*callInfo)             {}
func (nopObserver) callEnded(*callInfo, string, error) {}
func (nopObserver) dtmf(*callInfo, string, rune)       {}
