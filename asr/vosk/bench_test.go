package vosk_test

import (
	"testing"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/vosk"
	"lianxin/asr/vosk/vosktest"
)

// BenchmarkLoad120 is 120 live legs (60 seats × 2) through the adapter and the resilience
// wrapper against the stand-in (the Python server, 8 kHz as sent, 100 ms per message,
// lock-step replies) on loopback, 20 s of 8 kHz audio each at real-time pace; "…-adapter"
// subtracts the stand-in's tone decoding, measured alone at 8000 Hz. Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/vosk/
func BenchmarkLoad120(b *testing.B) {
	srv := vosktest.New()
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) { return vosk.New(vosk.Config{URL: srv.URL()}) }, 8000)
}
