package funasr_test

import (
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/funasr"
	"lianxin/asr/funasr/funasrtest"
)

// BenchmarkLoad120 is 120 live legs (60 seats × 2) through the adapter and the resilience
// wrapper against the stand-in (the C++ 2pass server) on loopback, 20 s of 8 kHz audio each
// at real-time pace, resampled to 16 kHz. "…-adapter" subtracts the stand-in's tone
// decoding, measured alone at 16000 Hz. Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/funasr/
func BenchmarkLoad120(b *testing.B) {
	srv := funasrtest.New()
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) { return funasr.New(funasr.Config{URL: srv.URL()}) }, 16000)
}
