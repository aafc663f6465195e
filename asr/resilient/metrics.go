package resilient

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the wrapper's Prometheus collectors, labelled by engine. Several wrapped
// engines share one set on the same registerer.
type Metrics struct {
	reconnects *prometheus.CounterVec
	rotations  *prometheus.CounterVec
	replayed   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	gaps       *prometheus.CounterVec
	gapSeconds *prometheus.CounterVec
	errors     *prometheus.CounterVec
	lag        *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not registered). When
// another wrapper registered them first, its collectors are shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "lianxin", Subsystem: "asr", Name: name, Help: help}, []string{"engine"})
	}
	m := &Metrics{
		reconnects: counter("reconnects_total", "Engine connections re-opened after a failure."),
		rotations:  counter("rotations_total", "Engine connections rotated before the engine's session limit."),
		replayed:   counter("replayed_seconds_total", "Audio replayed to a new engine connection because no final covered it yet."),
		dropped:    counter("dropped_frames_total", "Frames dropped because the engine fell too far behind (queue full)."),
		gaps:       counter("gaps_total", "Spans of audio that could not be transcribed and were marked as gaps."),
		gapSeconds: counter("gap_seconds_total", "Audio marked as a transcription gap."),
		errors:     counter("engine_errors_total", "Engine connection and stream errors."),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "lianxin", Subsystem: "asr", Name: "result_lag_seconds",
			Help:    "Time from the arrival of the last frame of an utterance to its final result.",
			Buckets: []float64{.05, .1, .2, .3, .5, .7, 1, 1.5, 2, 3, 5, 10},
		}, []string{"engine"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	for _, p := range []**prometheus.CounterVec{&m.reconnects, &m.rotations, &m.replayed, &m.dropped, &m.gaps, &m.gapSeconds, &m.errors} {
		if *p, err = register(reg, *p); err != nil {
			return nil, err
		}
	}
	if m.lag, err = register(reg, m.lag); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the equal collector registered before it.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}
