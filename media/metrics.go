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
	rtcp       *prometheus.CounterVec
	rtcpDrop   *prometheus.CounterVec
	rtt        *prometheus.HistogramVec
	peerJitter *prometheus.HistogramVec
	mos        *prometheus.HistogramVec
	loss       *prometheus.HistogramVec
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
	m.qualityCollectors()
	if reg != nil {
		reg.MustRegister(m.received, m.sent, m.lost, m.dropped, m.jitter, m.tapDropped, m.relayDelay,
			m.rtcp, m.rtcpDrop, m.rtt, m.peerJitter, m.mos, m.loss)
	}
	return m
}

// legMetrics are one leg's children, resolved once so the packet path only adds.
type legMetrics struct {
	received, sent, lost                prometheus.Counter
	foreign, malformed, late, duplicate prometheus.Counter
	jitter                              prometheus.Observer
	relayDelay                          prometheus.Observer
	rtcpSent, rtcpReceived              prometheus.Counter
	rtcpForeign, rtcpMalformed          prometheus.Counter
	rtt, peerJitter, mos, loss          prometheus.Observer
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

		rtcpSent:      m.rtcp.WithLabelValues(kind, "sent"),
		rtcpReceived:  m.rtcp.WithLabelValues(kind, "received"),
		rtcpForeign:   m.rtcpDrop.WithLabelValues(kind, DropForeignSource),
		rtcpMalformed: m.rtcpDrop.WithLabelValues(kind, DropMalformed),
		rtt:           m.rtt.WithLabelValues(kind),
		peerJitter:    m.peerJitter.WithLabelValues(kind),
		mos:           m.mos.WithLabelValues(kind),
		loss:          m.loss.WithLabelValues(kind),
	}
	lm.unauthenticated = m.dropped.WithLabelValues(kind, DropUnauthenticated)
	return lm
}

// qualityCollectors makes the RTCP and call-quality collectors.
func (m *Metrics) qualityCollectors() {
	m.rtcp = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lianxin_rtcp_packets_total",
		Help: "Compound RTCP packets, by direction: sent to a peer, or received and accepted from it.",
	}, []string{"leg", "direction"})
	m.rtcpDrop = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lianxin_rtcp_packets_dropped_total",
		Help: "RTCP packets dropped, by reason: foreign_source (not the peer), malformed.",
	}, []string{"leg", "reason"})
	m.rtt = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lianxin_rtcp_rtt_seconds",
		Help:    "Round trip to a peer from its RTCP report blocks (RFC 3550 §6.4.1), one sample per report.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .2, .4, .8},
	}, []string{"leg"})
	m.peerJitter = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lianxin_rtcp_peer_jitter_seconds",
		Help:    "Interarrival jitter a peer reports of the gateway's RTP, one sample per report.",
		Buckets: []float64{.001, .0025, .005, .01, .02, .04, .06, .1, .2},
	}, []string{"leg"})
	m.mos = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lianxin_leg_mos",
		Help:    "E-model MOS estimate (ITU-T G.107, G.711) of each leg when it closes.",
		Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4},
	}, []string{"leg"})
	m.loss = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lianxin_leg_loss_ratio",
		Help:    "Packet loss of each leg's worse direction when it closes (0-1).",
		Buckets: []float64{.001, .005, .01, .02, .05, .1, .2},
	}, []string{"leg"})
}

func (m *Metrics) tapDrops(consumer string) prometheus.Counter {
	if m == nil {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "unregistered"})
	}
	return m.tapDropped.WithLabelValues(consumer)
}
