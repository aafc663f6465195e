package desk

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/store"
)

// TypeHealth is a live-only event to admins when a part of the gateway starts or stops
// failing: {"component":"store","ok":false,"detail":"…"}.
const TypeHealth = "system.health"

// HealthData is the payload of system.health.
type HealthData struct {
	Component string `json:"component"`
	OK        bool   `json:"ok"`
	Detail    string `json:"detail,omitempty"`
}

// maxUnsaved bounds the events kept in memory while the store refuses writes (about an
// hour of a busy hotline's events); beyond it the oldest are dropped and counted.
const maxUnsaved = 100_000

// unsaved keeps, in order, the events the store refused, until it takes them again. While
// any are waiting, new events queue behind them, so the log keeps the order screens saw.
type unsaved struct {
	mu      sync.Mutex
	evs     []pendingEvent
	pending prometheus.Gauge
	dropped prometheus.Counter
}

type pendingEvent struct {
	ev   store.Event
	rows []store.Row
}

func newUnsaved() *unsaved {
	return &unsaved{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lianxin_desk_unsaved_events",
			Help: "Events pushed to screens but not yet stored (the store is failing)."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "lianxin_desk_unsaved_dropped_total",
			Help: "Unsaved events dropped because too many waited for the store."}),
	}
}

func (u *unsaved) waiting() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.evs) > 0
}

func (u *unsaved) add(p pendingEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.evs) >= maxUnsaved {
		u.evs = u.evs[1:]
		u.dropped.Inc()
	}
	u.evs = append(u.evs, p)
	u.pending.Set(float64(len(u.evs)))
}

// flush stores the waiting events in order until the store fails again.
func (u *unsaved) flush(ctx context.Context, st store.Store) error {
	for {
		u.mu.Lock()
		if len(u.evs) == 0 {
			u.mu.Unlock()
			return nil
		}
		p := u.evs[0]
		u.mu.Unlock()
		if _, err := st.Append(ctx, p.ev, p.rows...); err != nil {
			return err
		}
		u.mu.Lock()
		u.evs = u.evs[1:]
		u.pending.Set(float64(len(u.evs)))
		u.mu.Unlock()
	}
}

// health tracks which parts are failing, for /healthz and the admins' screens.
type health struct {
	mu     sync.Mutex
	failed map[string]string
	up     *prometheus.GaugeVec
}

func newHealth() *health {
	return &health{failed: map[string]string{}, up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lianxin_component_up", Help: "1 while a part of the gateway works, 0 while it fails."},
		[]string{"component"})}
}

// set records a part's state. told says whether admins should hear of it (it fails, works
// again, or fails otherwise than it did: a trunk's next attempt), flipped whether it
// started or stopped failing.
func (h *health) set(component string, err error) (told, flipped bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	detail, was := h.failed[component]
	if err == nil {
		delete(h.failed, component)
		h.up.WithLabelValues(component).Set(1)
		return was, was
	}
	h.failed[component] = err.Error()
	h.up.WithLabelValues(component).Set(0)
	return !was || detail != err.Error(), !was
}

// Problems lists the failing parts and why, sorted by part.
func (d *Desk) Problems() []HealthData {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	out := make([]HealthData, 0, len(d.health.failed))
	for c, detail := range d.health.failed {
		out = append(out, HealthData{Component: c, Detail: detail})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Component < out[j].Component })
	return out
}

// ReportHealth records that component fails (err) or works again (nil). A change, and a new
// detail while it fails, is pushed at once to admins as system.health (live only: the store
// may be what fails); the change is logged.
func (d *Desk) ReportHealth(component string, err error) {
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	d.reportHealthLocked(component, err)
}

func (d *Desk) reportHealthLocked(component string, err error) {
	told, flipped := d.health.set(component, err)
	if !told {
		return
	}
	data := HealthData{Component: component, OK: err == nil}
	if err != nil {
		data.Detail = err.Error()
	}
	switch {
	case flipped && err != nil:
		d.log.Error("component failing", "component", component, "err", err)
	case flipped:
		d.log.Info("component works again", "component", component)
	}
	raw, _ := json.Marshal(data)
	_ = d.deliverLocked(Event{Type: TypeHealth, Time: d.opts.Now().UTC()}, raw)
}

// retryUnsaved writes the events the store refused once it takes writes again; the desk
// owns it until Close.
func (d *Desk) retryUnsaved() {
	defer d.bg.Done()
	t := time.NewTicker(d.cfg.StoreRetry)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		if !d.unsaved.waiting() {
			continue
		}
		ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
		d.hub.mu.Lock() // new events wait while the backlog goes in, to keep the order
		if err := d.unsaved.flush(ctx, d.st); err == nil {
			d.reportHealthLocked("store", nil)
		}
		d.hub.mu.Unlock()
		cancel()
	}
}
