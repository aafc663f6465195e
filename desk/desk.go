// Package desk is what agents and admins see: login and tokens, the event hub, the WebSocket
// endpoint, the JSON API and the embedded agent screen (/) and admin wallboard (/admin).
//
// The gateway publishes every event through (*Desk).Publish. Publish stores the event, and the
// domain row it implies (a call, an utterance, a suggestion, a decision…), in one transaction
// before pushing it, so a screen that reconnects with after_seq loses nothing. Only
// transcript.partial is live-only.
package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/store"
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("desk: closed")

// Config is the desk's own configuration.
type Config struct {
	// Users maps admin users to their bcrypt hashes; a plain password is hashed by New, and
	// only the hash is kept.
	Users     map[string]string
	Seats     map[string]string                // seat (e.g. "seat-01") -> password
	CheckSeat func(seat, password string) bool // consulted for seats missing from Seats
	TokenTTL  time.Duration                    // default 12h

	BufferSize      int           // events queued per subscriber before it is dropped; default 256
	MaxMessageBytes int64         // largest client message; larger closes with 1009; default 64 KiB (SDP offers)
	PingInterval    time.Duration // default 25s; a peer silent for 2.5 intervals is dropped
	WriteTimeout    time.Duration // per frame; default 10s
	ReplayPage      int           // events read from the store per replay query; default 500
	StoreRetry      time.Duration // how often events the store refused are retried; default 1s
	// TrustedProxies are the reverse proxies in front of the desk. Only from them is
	// ClientIPHeader (e.g. "X-Forwarded-For" or "X-Real-IP") read for the client's address,
	// which the login throttle counts; from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	ClientIPHeader string
	// ThrottleSize is how many users, addresses and user-address pairs the login throttle
	// remembers each (least recently failed forgotten first); default 10000.
	ThrottleSize int
	// SearchTimeout bounds one transcript search; default 3s. A search that runs past it is
	// stopped and answered 400: the user narrows it.
	SearchTimeout time.Duration
	// PIIReveal are the admins who hold pii:reveal: they may read a transcript unredacted,
	// each time written to the audit log (see pii.go).
	PIIReveal []string
	// RecordDir is where the call recordings are (one folder per day); empty: none are served.
	RecordDir string
	// Location is the time zone of the desk's days (the wallboard's "today", a day's call
	// list, the report's default date): the reports' zone, so that the wall and the daily
	// report agree on when a day starts. Nil: the host's.
	Location *time.Location
}

// Dept is a department the agent can pick instead of the suggestion.
type Dept struct {
	ID     string `json:"id"`
	Name   string `json:"name"`              // Chinese
	NameEN string `json:"name_en,omitempty"` // English
}

// Options are the desk's links to the rest of the gateway. All are optional.
type Options struct {
	// OnDecide hands an agent's decision to dispatch (feedback, routing). The desk then
	// stores it and publishes dispatch.decided. An error is reported to the agent and
	// nothing is stored.
	OnDecide func(ctx context.Context, seat, callID, deptID string, accepted bool) error
	// OnSetState asks the seat package to make seat available or away. The seat package
	// publishes the resulting seat.state itself. Without OnSetState the desk publishes it.
	OnSetState func(ctx context.Context, seat, state string) error
	// OnHotspotAction acknowledges or closes a hotspot alert (HotspotAcknowledge,
	// HotspotClose) for the admin who; ErrNoAlert when it is not live.
	OnHotspotAction func(ctx context.Context, id, action, who string) error
	// OnWorkOrder queues the order the call's agent submits (the form's fields as JSON)
	// and returns its delivery status; an error wrapping ErrBadWorkOrder is answered 400.
	OnWorkOrder func(ctx context.Context, seat, callID string, fields json.RawMessage) (WorkOrderStatus, error)
	// KickWorkOrders wakes the delivery worker after an admin queues a dead letter again.
	KickWorkOrders func()
	// Queue says how many callers wait and the longest wait, for the wallboard.
	Queue func() (waiting int, longest time.Duration)
	// SeatStates returns every seat's current state, for the wallboard's first paint.
	SeatStates func() map[string]string
	// Departments lists the departments the agent may pick from.
	Departments func() []Dept
	// IssueTypes names the issue types (事项) for the wallboard's chart, as Departments
	// names the departments.
	IssueTypes func() []Dept
	// Report makes the analysis report of period ("daily", "weekly", "monthly") that
	// contains date (YYYY-MM-DD) in format ("fragment", "html", "pdf", "xlsx", "csv",
	// "json"), its text in lang ("zh", "en"). Errors wrapping ErrBadReport are answered
	// 400, ErrReportUnavailable 503. Without it there are no reports.
	Report func(ctx context.Context, period, date, format, lang string) (ReportFile, error)
	// OpenPhone opens the phone signalling of one socket (see phone.go); without it,
	// phone messages are refused.
	OpenPhone func(c PhoneClient, send func(typ string, data any) bool) PhoneLink
	// SeatPhone is the kind of phone that rings for a seat: "sip", "webrtc" or "".
	SeatPhone  func(seat string) string
	Now        func() time.Time
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Desk serves the screens. Create it with New; Close it when done.
type Desk struct {
	cfg  Config
	opts Options
	st   store.Store
	auth *auth
	// throttle refuses logins for a user and address after repeated wrong passwords
	throttle *loginThrottle
	hub      *hub
	m        *metrics
	log      *slog.Logger
	handler  http.Handler
	// writeBuffers lends WebSocket write buffers to connections only while they write, so
	// a thousand idle screens do not each hold one
	writeBuffers sync.Pool

	// unsaved holds events the store refused until it takes them again; health the parts
	// that are failing.
	unsaved *unsaved
	health  *health
	// board is the wallboard's state now (board.go), guarded by the hub's lock
	board *board

	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
	bg     sync.WaitGroup
}

// New builds a desk on st. It reads the store's last seq so that live events continue the
// stored sequence.
func New(cfg Config, st store.Store, opts Options) (*Desk, error) {
	if st == nil {
		return nil, errors.New("desk: nil store")
	}
	if len(cfg.Users) == 0 && len(cfg.Seats) == 0 && cfg.CheckSeat == nil {
		return nil, errors.New("desk: no users or seats configured")
	}
	setDefaults(&cfg, &opts)
	users, err := HashPasswords(cfg.Users)
	if err != nil {
		return nil, fmt.Errorf("desk: admin %w", err)
	}
	cfg.Users = users
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	last, err := st.LastSeq(ctx)
	if err != nil {
		cancel(err)
		return nil, fmt.Errorf("desk: %w", err)
	}
	throttle, err := newLoginThrottle(opts.Now, cfg.ThrottleSize)
	if err != nil {
		cancel(err)
		return nil, fmt.Errorf("desk: %w", err)
	}
	d := &Desk{cfg: cfg, opts: opts, st: st, auth: newAuth(cfg, opts.Now), throttle: throttle, m: m,
		log: opts.Logger, ctx: ctx, cancel: cancel}
	sessions, err := st.Sessions(ctx, opts.Now())
	if err != nil {
		cancel(err)
		return nil, fmt.Errorf("desk: %w", err)
	}
	d.auth.restore(sessions)
	d.hub, d.board = newHub(last, m.slowDrops.Inc), newBoard()
	if err := d.restoreBoard(ctx); err != nil {
		cancel(err)
		return nil, fmt.Errorf("desk: %w", err)
	}
	d.handler = withSecurityHeaders(d.routes())
	d.unsaved, d.health = newUnsaved(), newHealth()
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{d.unsaved.pending, d.unsaved.dropped, d.health.up} {
			if err := opts.Registerer.Register(c); err != nil {
				cancel(err)
				return nil, fmt.Errorf("desk: metrics: %w", err)
			}
		}
	}
	d.bg.Add(1)
	go d.retryUnsaved()
	return d, nil
}

func setDefaults(cfg *Config, opts *Options) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = 256
	}
	if cfg.MaxMessageBytes <= 0 {
		// a browser's SDP offer is 3–8 KB
		cfg.MaxMessageBytes = 64 << 10
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.ReplayPage <= 0 {
		cfg.ReplayPage = 500
	}
	if cfg.StoreRetry <= 0 {
		cfg.StoreRetry = time.Second
	}
	if cfg.ThrottleSize <= 0 {
		cfg.ThrottleSize = 10000
	}
	if cfg.SearchTimeout <= 0 {
		cfg.SearchTimeout = 3 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
}

// String names the desk for logs.
func (d *Desk) String() string { return fmt.Sprintf("desk(%d subscribers)", d.hub.count()) }

// Handler serves /, /admin, /static/, /ws and /api/….
func (d *Desk) Handler() http.Handler { return d.handler }

// Publish stores ev (unless it is a transcript.partial) with its domain row, then pushes it to
// every screen allowed to see it, and returns it with Seq and Time set. A zero Time becomes
// Now. Events are pushed in seq order. Bad data for a known type is an error and nothing is
// stored or pushed.
func (d *Desk) Publish(ctx context.Context, ev Event) (Event, error) {
	if d.ctx.Err() != nil {
		return ev, ErrClosed
	}
	if ev.Type == "" {
		return ev, errors.New("desk: event without type")
	}
	if ev.Time.IsZero() {
		ev.Time = d.opts.Now()
	}
	ev.Time = ev.Time.UTC()
	raw, err := json.Marshal(ev.Data)
	if err != nil {
		return ev, fmt.Errorf("desk: %s data: %w", ev.Type, err)
	}
	if len(raw) > maxEventBytes {
		return ev, fmt.Errorf("desk: %s data is %d bytes", ev.Type, len(raw))
	}
	if ev.Type == TypePartial {
		ev.Seq = 0
		return ev, d.push(ev, raw)
	}
	rows, err := rowsFor(ev, raw)
	if err != nil {
		return ev, err
	}
	start := time.Now()
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	sev := store.Event{Type: ev.Type, Time: ev.Time, CallID: ev.CallID, Seat: ev.Seat, Data: raw}
	if d.unsaved.waiting() {
		return d.keepUnsavedLocked(ev, sev, rows, raw, nil)
	}
	stored, err := d.st.Append(ctx, sev, rows...)
	if err != nil {
		return d.keepUnsavedLocked(ev, sev, rows, raw, err)
	}
	ev.Seq = stored.Seq
	err = d.deliverLocked(ev, raw)
	d.m.publish.Observe(time.Since(start).Seconds())
	return ev, err
}

// keepUnsavedLocked queues an event the store did not take (it failed, or earlier events
// still wait) and pushes it live, marked unsaved: screens keep working while the store
// fails, and the event is written, in order, once it recovers.
func (d *Desk) keepUnsavedLocked(ev Event, sev store.Event, rows []store.Row, raw json.RawMessage, err error) (Event, error) {
	if err != nil {
		d.reportHealthLocked("store", fmt.Errorf("writes failing: %w", err))
	}
	d.unsaved.add(pendingEvent{ev: sev, rows: rows})
	ev.Seq, ev.Unsaved = 0, true
	return ev, d.deliverLocked(ev, raw)
}

func (d *Desk) push(ev Event, raw json.RawMessage) error {
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	return d.deliverLocked(ev, raw)
}

func (d *Desk) deliverLocked(ev Event, raw json.RawMessage) error {
	own, others, err := d.framesFor(ev, raw)
	if err != nil {
		return err
	}
	d.hub.deliverSplitLocked(ev.Seat, own, others)
	d.m.events.WithLabelValues(ev.Type).Inc()
	if err := d.board.note(ev, raw); err != nil {
		d.log.Warn("desk: the wallboard's state missed an event", "type", ev.Type, "err", err)
	}
	return nil
}

// Close disconnects every screen (close code 1001) and waits for their goroutines. It does not
// close the store, which the caller owns. It is safe to call twice.
func (d *Desk) Close() error {
	d.once.Do(func() {
		d.cancel(ErrClosed)
		d.hub.close()
	})
	d.hub.conns.Wait()
	d.bg.Wait()
	return nil
}

// metrics are the desk's Prometheus collectors.
type metrics struct {
	subscribers prometheus.Gauge
	events      *prometheus.CounterVec
	slowDrops   prometheus.Counter
	replayed    prometheus.Counter
	logins      *prometheus.CounterVec
	publish     prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lianxin_ws_subscribers",
			Help: "WebSocket screens connected."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lianxin_ws_events_published_total",
			Help: "Events published to screens, by type."}, []string{"type"}),
		slowDrops: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_ws_slow_disconnects_total",
			Help: "Screens disconnected because their event buffer was full."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_ws_replayed_events_total",
			Help: "Stored events replayed to reconnecting screens."}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lianxin_desk_logins_total",
			Help: "Login attempts by result."}, []string{"result"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lianxin_desk_publish_seconds",
			Help:    "Time to store and fan out one event.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8)}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.subscribers, m.events, m.slowDrops, m.replayed, m.logins, m.publish} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("desk: metrics: %w", err)
		}
	}
	return m, nil
}
