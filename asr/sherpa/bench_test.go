package sherpa_test

import (
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/sherpa"
	"lianxin/asr/sherpa/sherpatest"
)

// BenchmarkLoad120 is 120 live legs (60 seats × 2) through the adapter and the resilience
// wrapper against the stand-in (the C++ server, resampled to 16 kHz and sent as float32)
// on loopback, 20 s of 8 kHz audio each at real-time pace; "…-adapter" subtracts the
// stand-in's tone decoding, measured alone at 16000 Hz. Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/sherpa/
func BenchmarkLoad120(b *testing.B) {
	srv := sherpatest.New()
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) { return sherpa.New(sherpa.Config{URL: srv.URL()}) }, 16000)
}
