package iflytek_test

import (
	"testing"
	"time"

	"lianxin/asr/asrtest"
	"lianxin/asr/iflytek"
	"lianxin/asr/iflytek/iflytektest"
	"lianxin/asr/resilient"
)

// BenchmarkLoad120 is 120 live legs (60 seats × 2) through the adapter and the resilience
// wrapper against the stand-in on loopback, 20 s of 8 kHz audio each at real-time pace.
// The stand-in's decoding runs in the same process; "…-adapter" subtracts it (measured
// alone at the rate the stand-in decodes, 16000 Hz). Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/iflytek/
func BenchmarkLoad120(b *testing.B) {
	const streams, audio = 120, 20 * time.Second
	srv := iflytektest.New("595f23df", "key")
	defer srv.Close()
	inner, err := iflytek.New(iflytek.Config{URL: srv.URL(), AppID: "595f23df", APIKey: "key"})
	if err != nil {
		b.Fatal(err)
	}
	e, err := resilient.Wrap(inner, resilient.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r := asrtest.Load(b, e, streams, audio)
		if r.Finals < streams {
			b.Fatalf("%d finals from %d streams", r.Finals, streams)
		}
		dec := asrtest.DecodeCPU(streams, audio, 16000)
		b.ReportMetric(float64(r.CPUPerStreamMinute().Milliseconds()), "cpu-ms/stream-min")
		b.ReportMetric(float64((r.CPU-dec).Milliseconds())/streams/audio.Minutes(), "cpu-ms/stream-min-adapter")
		b.ReportMetric(r.HeapPerStream/1024, "heap-KiB/stream")
		b.ReportMetric(r.GoroutinesPerStream, "goroutines/stream")
	}
}
