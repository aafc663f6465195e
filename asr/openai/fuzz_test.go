package openai

import (
	"testing"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzRealtimeHandle feeds Realtime events to the protocol: never a panic or a result
// whose time runs backwards.
func FuzzRealtimeHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"input_audio_buffer.speech_started","audio_start_ms":1020,"item_id":"item_A"}`,
		`{"type":"input_audio_buffer.speech_stopped","audio_end_ms":3480,"item_id":"item_A"}`,
		`{"type":"input_audio_buffer.committed","item_id":"item_A","previous_item_id":null}`,
		`{"type":"conversation.item.input_audio_transcription.delta","item_id":"item_A","delta":"I'd like to"}`,
		`{"type":"conversation.item.input_audio_transcription.completed","item_id":"item_A","transcript":"I'd like to report a pothole."}`,
		`{"type":"input_audio_buffer.speech_stopped","audio_end_ms":-40,"item_id":"item_B"}`,
		`{"type":"error","error":{"type":"invalid_request_error","code":"x","message":"y"}}`, `{}`, `{"type":"error"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, realtimeRate, func(r asr.Result) { rs = append(rs, r) })
		p := &realtime{sc: c.Config, items: map[string]*item{}}
		for _, m := range []string{`{"type":"input_audio_buffer.speech_started","audio_start_ms":100,"item_id":"item_A"}`, msg,
			`{"type":"input_audio_buffer.committed","item_id":"item_A"}`, msg,
			`{"type":"conversation.item.input_audio_transcription.completed","item_id":"item_A","transcript":"x"}`} {
			_, _ = p.Handle(c, websocket.TextMessage, []byte(m))
		}
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start {
				t.Fatalf("bad result %+v from %q", r, msg)
			}
		}
	})
}

// FuzzParse feeds HTTP response bodies to the parser.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"text":"hello"}`, `{"text":"a","words":[{"word":"a","start":2,"end":1}]}`, `{"error":{}}`, `<html>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tr, err := parse([]byte(body))
		if err != nil {
			return
		}
		for _, w := range tr.Words {
			if w.Start < 0 || w.End < w.Start {
				t.Fatalf("bad word %+v from %q", w, body)
			}
		}
	})
}
