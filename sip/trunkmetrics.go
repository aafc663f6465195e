package sip

import (
	"cmp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// trunkCollector exposes the trunks' registrations, read from the server at each scrape
// so that a registration whose time ran out shows at once.
type trunkCollector struct {
	registered, state, next, failures, ok, status, target *prometheus.Desc

	mu     sync.Mutex
	states func() []TrunkState
	now    func() time.Time
}

func newTrunkCollector() *trunkCollector {
	return &trunkCollector{
		registered: prometheus.NewDesc("lianxin_trunk_registered",
			"1 while the trunk's registrar holds the gateway's registration (granted and not run out).", []string{"trunk"}, nil),
		state: prometheus.NewDesc("lianxin_trunk_registration_state",
			"The trunk registration's state: 1 for the current one of registering, registered, failing, backing_off, unregistered.",
			[]string{"trunk", "state"}, nil),
		next: prometheus.NewDesc("lianxin_trunk_registration_next_attempt_timestamp_seconds",
			"When the trunk's next REGISTER goes out (Unix time; 0: none planned).", []string{"trunk"}, nil),
		failures: prometheus.NewDesc("lianxin_trunk_registration_failures_total",
			"REGISTER attempts to the trunk's registrar that failed.", []string{"trunk"}, nil),
		ok: prometheus.NewDesc("lianxin_trunk_registrations_total",
			"REGISTERs the trunk's registrar accepted, refreshes included.", []string{"trunk"}, nil),
		status: prometheus.NewDesc("lianxin_trunk_registration_last_status",
			"SIP status of the last REGISTER's final response (0: none came: a timeout or a transport error).", []string{"trunk"}, nil),
		target: prometheus.NewDesc("lianxin_trunk_registration_target",
			"1 for the registrar the trunk's last REGISTER went to: its host:port as configured or found by DNS SRV, and its address.",
			[]string{"trunk", "target", "address"}, nil),
	}
}

// attach makes the collector read states from a server.
func (c *trunkCollector) attach(states func() []TrunkState, now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states, c.now = states, now
}

// Describe sends the descriptors of the trunk metrics.
func (c *trunkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.registered
	ch <- c.state
	ch <- c.next
	ch <- c.failures
	ch <- c.ok
	ch <- c.status
	ch <- c.target
}

// Collect sends each registering trunk's metrics.
func (c *trunkCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	states, now := c.states, c.now
	c.mu.Unlock()
	if states == nil {
		return
	}
	t := now()
	for _, s := range states() {
		ch <- prometheus.MustNewConstMetric(c.registered, prometheus.GaugeValue, flag(s.Registered(t)), s.Trunk)
		for _, st := range regStates {
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, flag(s.State == st), s.Trunk, string(st))
		}
		var next float64
		if !s.NextAttempt.IsZero() {
			next = float64(s.NextAttempt.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(c.next, prometheus.GaugeValue, next, s.Trunk)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(s.FailuresTotal), s.Trunk)
		ch <- prometheus.MustNewConstMetric(c.ok, prometheus.CounterValue, float64(s.Registrations), s.Trunk)
		ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, float64(s.LastStatus), s.Trunk)
		if !s.Target.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.target, prometheus.GaugeValue, 1, s.Trunk, cmp.Or(s.Target.Host, s.Target.Addr.String()),
				s.Target.Addr.String())
		}
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
