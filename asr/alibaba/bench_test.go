package alibaba_test

import (
	"testing"

	"lianxin/asr"
	"lianxin/asr/alibaba"
	"lianxin/asr/alibaba/alibabatest"
	"lianxin/asr/asrtest"
)

// BenchmarkLoad120 is 120 live legs (60 seats × 2) through the adapter and the resilience
// wrapper against the stand-in (8 kHz as sent, 100 ms per message) on loopback, 20 s of 8
// kHz audio each at real-time pace; "…-adapter" subtracts the stand-in's tone decoding,
// measured alone at 8000 Hz. Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/alibaba/
func BenchmarkLoad120(b *testing.B) {
	srv := alibabatest.New("tok", "app")
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) {
		return alibaba.New(alibaba.Config{URL: srv.URL(), Token: "tok", AppKey: "app"})
	}, 8000)
}
