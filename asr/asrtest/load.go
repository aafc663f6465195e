package asrtest

import (
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest/tone"
	"lianxin/asr/resilient"
	"lianxin/media"
)

// LoadReport is what Load measured of the whole process (engine, wrapper and, when it
// runs in the process, the stand-in).
type LoadReport struct {
	Streams int
	Audio   time.Duration // per stream
	CPU     time.Duration // user + system over the run
	// HeapPerStream and GoroutinesPerStream are taken half-way, after a GC, against the
	// process before the streams opened.
	HeapPerStream       float64
	GoroutinesPerStream float64
	Finals              int
}

// CPUPerStreamMinute is the CPU one stream costs per minute of audio.
func (r LoadReport) CPUPerStreamMinute() time.Duration {
	return time.Duration(float64(r.CPU) / float64(r.Streams) / r.Audio.Minutes())
}

// Load feeds streams concurrent streams of e as live legs do: the default tone fixture at
// 8 kHz, looped to audio, in 20 ms frames at real-time pace (one clock for all, as the
// media bridge ticks), then closes them and measures CPU, heap and goroutines.
func Load(tb testing.TB, e asr.Engine, streams int, audio time.Duration) LoadReport {
	tb.Helper()
	fx := DefaultToneFixture(8000)
	frames, err := fx.Load()
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	g0 := runtime.NumGoroutine()
	cpu0 := cpuTime()

	ss := make([]asr.Stream, streams)
	finals := make([]int, streams)
	var wg sync.WaitGroup
	for i := range ss {
		s, err := e.NewStream(context.Background(), asr.StreamConfig{SampleRate: 8000, Partials: true})
		if err != nil {
			tb.Fatalf("stream %d: %v", i, err)
		}
		ss[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range s.Results() {
				if r.Final {
					finals[i]++
				}
			}
		}()
	}
	r := LoadReport{Streams: streams, Audio: audio}
	n := int(audio / (20 * time.Millisecond))
	tick := time.NewTicker(20 * time.Millisecond)
	for k := range n {
		<-tick.C
		f := frames[k%len(frames)]
		f.Offset = time.Duration(k) * 20 * time.Millisecond
		for _, s := range ss {
			if err := s.Write(media.Frame{Samples: f.Samples, Rate: f.Rate, Offset: f.Offset}); err != nil {
				tb.Fatalf("write: %v", err)
			}
		}
		if k == n/2 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			r.HeapPerStream = (float64(m.HeapInuse) - float64(base.HeapInuse)) / float64(streams)
			r.GoroutinesPerStream = float64(runtime.NumGoroutine()-g0) / float64(streams)
		}
	}
	tick.Stop()
	for _, s := range ss {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	}
	wg.Wait()
	r.CPU = cpuTime() - cpu0
	for _, f := range finals {
		r.Finals += f
	}
	return r
}

// DecodeCPU is the CPU the tone decoder (the stand-ins' "recogniser") spends on streams
// × audio at rate: what to subtract from a Load whose stand-in ran in the process.
func DecodeCPU(streams int, audio time.Duration, rate int) time.Duration {
	s, err := tone.Synth(rate, 0, 0, DefaultToneFixture(rate).Utterances...)
	if err != nil {
		panic(err)
	}
	need := int(audio * time.Duration(rate) / time.Second)
	c0 := cpuTime()
	for range streams {
		d := tone.NewDecoder(rate)
		for fed := 0; fed < need; fed += len(s) {
			d.Feed(s[:min(len(s), need-fed)])
		}
	}
	return cpuTime() - c0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchLoad120 is the hotline-scale bench of a network adapter: 120 live legs (60 seats ×
// 2) through the engine newEngine makes and the resilience wrapper, 20 s of 8 kHz audio
// each at real-time pace (Load). It reports CPU per stream-minute, the same less the
// stand-in's tone decoding (measured alone at decodeRate, the rate the stand-in decodes
// at: "…-adapter"), heap and goroutines per stream.
func BenchLoad120(b *testing.B, newEngine func() (asr.Engine, error), decodeRate int) {
	const streams, audio = 120, 20 * time.Second
	inner, err := newEngine()
	if err != nil {
		b.Fatal(err)
	}
	e, err := resilient.Wrap(inner, resilient.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for b.Loop() {
		r := Load(b, e, streams, audio)
		if r.Finals < streams {
			b.Fatalf("%d finals from %d streams", r.Finals, streams)
		}
		dec := DecodeCPU(streams, audio, decodeRate)
		b.ReportMetric(float64(r.CPUPerStreamMinute().Milliseconds()), "cpu-ms/stream-min")
		b.ReportMetric(float64((r.CPU-dec).Milliseconds())/streams/audio.Minutes(), "cpu-ms/stream-min-adapter")
		b.ReportMetric(r.HeapPerStream/1024, "heap-KiB/stream")
		b.ReportMetric(r.GoroutinesPerStream, "goroutines/stream")
	}
}
