package media

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the values of the reason label of lianxin_rtp_packets_dropped_total.
const (
	DropForeignSource = "foreign_source"
	DropMalformed     = "malformed"
	DropLate          = "late"
	DropDuplicate     = "duplicate"
	// DropUnauthenticated is an SRTP packet that failed authentication or was replayed.
	DropUnauthenticated = "unauthenticated"
)

// Metrics holds the media layer's Prometheus collectors. One Metrics serves every leg; the
// leg label is a leg's Kind (e.g. "caller", "agent"), so its cardinality stays small.
type Metrics struct {
	received   *prometheus.CounterVec
	sent       *prometheus.CounterVec
	lost       *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	jitter     *prometheus.HistogramVec
	tapDropped *prometheus.CounterVec
	relayDelay prometheus.Histogram
}

// NewMetrics creates the collectors and registers them on reg; a nil reg leaves them
// unregistered (tests, tools). It panics if they are already registered on reg, as
// prometheus.MustRegister does: that is a wiring bug.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_rtp_packets_received_total",
			Help: "RTP packets accepted from a peer (after latching and validation).",
		}, []string{"leg"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_rtp_packets_sent_total",
			Help: "RTP packets sent to a peer (relayed or played).",
		}, []string{"leg"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_rtp_packets_lost_total",
			Help: "RTP packets a peer sent that never arrived (sequence gaps).",
		}, []string{"leg"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_rtp_packets_dropped_total",
			Help: "RTP packets dropped, by reason: foreign_source, malformed, duplicate (not relayed), late (too late for the tap's reorder window; still relayed), unauthenticated (SRTP).",
		}, []string{"leg", "reason"}),
		jitter: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lianxin_rtp_jitter_seconds",
			Help:    "RFC 3550 interarrival jitter of received RTP, sampled about once a second per leg.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .04, .06, .1, .2},
		}, []string{"leg"}),
		tapDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_tap_frames_dropped_total",
			Help: "Audio frames dropped because a tap consumer's queue was full.",
		}, []string{"consumer"}),
		relayDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lianxin_rtp_relay_delay_seconds",
			Help:    "Time from receiving an RTP packet to sending it on to the other leg.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.sent, m.lost, m.dropped, m.jitter, m.tapDropped, m.relayDelay)
	}
	return m
}

// legMetrics are one leg's children, resolved once so the packet path only adds.
type legMetrics struct {
	received, sent, lost                prometheus.Counter
	foreign, malformed, late, duplicate prometheus.Counter
	jitter                              prometheus.Observer
	relayDelay                          prometheus.Observer
	unauthenticated                     prometheus.Counter
}

func (m *Metrics) forLeg(kind string) *legMetrics {
	if m == nil {
		m = NewMetrics(nil)
	}
	lm := &legMetrics{
		received:   m.received.WithLabelValues(kind),
		sent:       m.sent.WithLabelValues(kind),
		lost:       m.lost.WithLabelValues(kind),
		foreign:    m.dropped.WithLabelValues(kind, DropForeignSource),
		malformed:  m.dropped.WithLabelValues(kind, DropMalformed),
		late:       m.dropped.WithLabelValues(kind, DropLate),
		duplicate:  m.dropped.WithLabelValues(kind, DropDuplicate),
		jitter:     m.jitter.WithLabelValues(kind),
		relayDelay: m.relayDelay,
	}
	lm.unauthenticated = m.dropped.WithLabelValues(kind, DropUnauthenticated)
	return lm
}

func (m *Metrics) tapDrops(consumer string) prometheus.Counter {
	if m == nil {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "unregistered"})
	}
	return m.tapDropped.WithLabelValues(consumer)
}
