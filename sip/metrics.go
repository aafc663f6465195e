package sip

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the signalling layer's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	registrations prometheus.Gauge
	registers     *prometheus.CounterVec
	requests      *prometheus.CounterVec
	responses     *prometheus.CounterVec
}

// NewMetrics registers the SIP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		registrations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lianxin_sip_registrations", Help: "Seats with a live registration.",
		}),
		registers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_register_requests_total", Help: "REGISTER requests by outcome.",
		}, []string{"result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_requests_total", Help: "SIP requests received, by method.",
		}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_rejections_total", Help: "SIP requests answered with a failure status, by status code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.registrations, m.registers, m.requests, m.responses)
	return m
}

func (m *Metrics) registered(n int) {
	if m != nil {
		m.registrations.Set(float64(n))
	}
}

func (m *Metrics) register(result string) {
	if m != nil {
		m.registers.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) request(method string) {
	if m != nil {
		m.requests.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) rejected(code int) {
	if m != nil && code >= 300 {
		m.responses.WithLabelValues(itoa(code)).Inc()
	}
}
