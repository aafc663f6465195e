package sip

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the signalling layer's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	registrations prometheus.Gauge
	registers     *prometheus.CounterVec
	requests      *prometheus.CounterVec
	responses     *prometheus.CounterVec
	authBlocks    prometheus.Counter
	limited       *prometheus.CounterVec
	tcpCloses     *prometheus.CounterVec
	logDropped    prometheus.Counter
	trunkAuths    *prometheus.CounterVec
	trunkInvites  *prometheus.CounterVec
	trunks        *trunkCollector
	legs          *prometheus.CounterVec
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
		authBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_sip_auth_blocks_total", Help: "Source addresses blocked after repeated digest failures.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_rate_limited_total", Help: "SIP requests answered 503 for exceeding their source's rate, by method.",
		}, []string{"method"}),
		tcpCloses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_tcp_closed_total", Help: "SIP TCP connections closed by the gateway, by reason (idle, limit).",
		}, []string{"reason"}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_sip_log_suppressed_total", Help: "SIP stack log records dropped by the rate limit.",
		}),
		legs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_call_legs_total",
			Help: "Call legs set up, by side (caller, seat), signalling transport (udp, tcp, tls) and media (rtp, srtp).",
		}, []string{"side", "transport", "media"}),
		trunkAuths: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_sip_trunk_auth_total", Help: "Digest checks of PBX trunks' INVITEs, by outcome.",
		}, []string{"result"}),
		trunkInvites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_trunk_invites_total",
			Help: "New INVITEs by the trunk they came from (none: no trunk) and what became of them (admitted, forbidden, not_found, challenged).",
		}, []string{"trunk", "result"}),
		trunks: newTrunkCollector(),
	}
	reg.MustRegister(m.registrations, m.registers, m.requests, m.responses, m.authBlocks, m.limited, m.tcpCloses, m.logDropped,
		m.trunkAuths, m.trunkInvites, m.trunks, m.legs)
	return m
}

func (m *Metrics) trunkAuth(result string) {
	if m != nil {
		m.trunkAuths.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) trunkInvite(trunk, result string) {
	if m != nil {
		m.trunkInvites.WithLabelValues(trunk, result).Inc()
	}
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

func (m *Metrics) blocked() {
	if m != nil {
		m.authBlocks.Inc()
	}
}

func (m *Metrics) rateLimited(method string) {
	if m != nil {
		m.limited.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) tcpClosed(reason string) {
	if m != nil {
		m.tcpCloses.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) logSuppressed() {
	if m != nil {
		m.logDropped.Inc()
	}
}

// leg counts a call leg set up over transport, with SRTP or plain RTP.
func (m *Metrics) leg(side, transport string, srtp bool) {
	if m == nil {
		return
	}
	media := "rtp"
	if srtp {
		media = "srtp"
	}
	m.legs.WithLabelValues(side, strings.ToLower(transport), media).Inc()
}
