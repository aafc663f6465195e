package pocketsphinx

import "github.com/prometheus/client_golang/prometheus"

// metrics of the engine, registered on the injected Registerer (none when nil).
type metrics struct {
	active  prometheus.Gauge
	refused prometheus.Counter
	dropped prometheus.Counter
	finals  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asr_pocketsphinx_streams_active", Help: "Decoders serving a stream."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "asr_pocketsphinx_streams_refused_total", Help: "NewStream calls refused because every decoder was busy."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "asr_pocketsphinx_dropped_frames_total", Help: "Frames dropped because a stream's queue was full (decoder behind real time)."}),
		finals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "asr_pocketsphinx_finals_total", Help: "Final results delivered."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.active, m.refused, m.dropped, m.finals} {
			// a second engine on the same registry shares the first one's series
			_ = reg.Register(c)
		}
	}
	return m
}
