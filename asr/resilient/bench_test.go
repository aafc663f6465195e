package resilient_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/funasr"
	"lianxin/asr/funasr/funasrtest"
	"lianxin/asr/resilient"
)

// benchStreams runs the default tone fixture (4 s, 201 frames of 20 ms at 8 kHz) through
// one stream per iteration and reports frames/s, plus heap per open stream.
func benchStreams(b *testing.B, e asr.Engine) {
	fx := asrtest.DefaultToneFixture(8000)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
		if err != nil {
			b.Fatal(err)
		}
		got := asrtest.Collect(b, s)
		for _, f := range fx.Frames {
			if err := s.Write(f); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if rs := <-got; len(rs) == 0 {
			b.Fatal("no results")
		}
	}
	b.ReportMetric(float64(b.N*len(fx.Frames))/time.Since(start).Seconds(), "frames/s")
	b.StopTimer()
	b.ReportMetric(heapPerStream(b, e, fx), "B/stream")
}

// heapPerStream opens 20 streams, feeds each a second of audio and measures the heap they
// hold.
func heapPerStream(b *testing.B, e asr.Engine, fx asrtest.Fixture) float64 {
	const n = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	streams := make([]asr.Stream, n)
	for i := range streams {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{Partials: true})
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for range s.Results() {
			}
		}()
		for _, f := range fx.Frames[:50] {
			_ = s.Write(f)
		}
		streams[i] = s
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, s := range streams {
		_ = s.Close()
	}
	return float64(after.HeapAlloc-before.HeapAlloc) / n
}

// BenchmarkWrapper is the wrapper's own cost over an in-process engine.
func BenchmarkWrapper(b *testing.B) {
	e, err := resilient.Wrap(newToneEngine(), resilient.Config{})
	if err != nil {
		b.Fatal(err)
	}
	benchStreams(b, e)
}

// BenchmarkFunASRStandIn is the wrapper plus the FunASR adapter (8 → 16 kHz resampling,
// WebSocket) against its stand-in on loopback; the stand-in's decoding is included.
func BenchmarkFunASRStandIn(b *testing.B) {
	srv := funasrtest.New()
	defer srv.Close()
	inner, err := funasr.New(funasr.Config{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	e, err := resilient.Wrap(inner, resilient.Config{})
	if err != nil {
		b.Fatal(err)
	}
	benchStreams(b, e)
}
