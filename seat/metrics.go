package seat

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ACD's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	state     *prometheus.GaugeVec
	queueLen  prometheus.Gauge
	queueWait prometheus.Histogram
}

// NewMetrics registers the ACD's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lianxin_seat_state",
			Help: "1 for the state each seat is in, 0 for the others.",
		}, []string{"seat", "state"}),
		queueLen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lianxin_queue_length",
			Help: "Callers waiting in the ACD queue for a seat.",
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lianxin_queue_wait_seconds",
			Help:    "Time callers waited in the queue before a seat was offered or they left.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300},
		}),
	}
	reg.MustRegister(m.state, m.queueLen, m.queueWait)
	return m
}

func (m *Metrics) setState(id string, from, to State) {
	if m == nil {
		return
	}
	if from == "" {
		for _, s := range AllStates {
			m.state.WithLabelValues(id, string(s)).Set(0)
		}
	} else {
		m.state.WithLabelValues(id, string(from)).Set(0)
	}
	m.state.WithLabelValues(id, string(to)).Set(1)
}

func (m *Metrics) queued(n int) {
	if m != nil {
		m.queueLen.Set(float64(n))
	}
}

func (m *Metrics) dequeued(n int, waited time.Duration) {
	if m != nil {
		m.queueLen.Set(float64(n))
		m.queueWait.Observe(waited.Seconds())
	}
}
