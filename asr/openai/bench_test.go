package openai_test

import (
	"testing"
	"time"

	"lianxin/asr"
	"lianxin/asr/asrtest"
	"lianxin/asr/openai"
	"lianxin/asr/openai/openaitest"
	"lianxin/asr/segment"
)

// BenchmarkLoad120Realtime is 120 live legs (60 seats × 2) through the Realtime adapter
// and the resilience wrapper against the stand-in (late completions) on loopback, 20 s of
// 8 kHz audio each at real-time pace, resampled to 24 kHz and sent as base64 JSON;
// "…-adapter" subtracts the stand-in's tone decoding, measured alone at 24000 Hz. Run:
//
//	go test -run '^$' -bench Load120 -benchtime 1x ./asr/openai/
func BenchmarkLoad120Realtime(b *testing.B) {
	srv := openaitest.NewRealtimeLate("sk")
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) {
		return openai.NewRealtime(openai.RealtimeConfig{URL: srv.URL(), Key: "sk"})
	}, 24000)
}

// BenchmarkLoad120HTTP is the same through the HTTP adapter: the segmenter's VAD cuts
// each leg into utterances, each posted as a 16 kHz WAV (with a partial re-submitted every
// second) to the whisper.cpp stand-in; "…-adapter" subtracts its decoding at 16000 Hz.
func BenchmarkLoad120HTTP(b *testing.B) {
	srv := openaitest.NewHTTPWith(openaitest.HTTPOptions{Dialect: openaitest.WhisperCPP})
	defer srv.Close()
	asrtest.BenchLoad120(b, func() (asr.Engine, error) {
		return openai.New(openai.Config{URL: srv.URL(), Path: "/inference", Language: "zh",
			Segment: segment.Config{PartialEvery: time.Second}})
	}, 16000)
}
