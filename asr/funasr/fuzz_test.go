package funasr

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzHandle feeds server messages to the protocol: bad input is an error, never a panic
// or a result whose time runs backwards.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"mode":"2pass-online","wav_name":"c1","text":"你好","is_final":false}`,
		`{"mode":"2pass-offline","wav_name":"c1","text":"你好，我想反映一下。","is_final":false,"timestamp":"[[380,560],[560,720]]"}`,
		`{"mode":"2pass-offline","text":"","is_final":true,"timestamp":1764264000000}`,
		`{"mode":"2pass-offline","text":"a b","timestamp":"[[900,100],[-5,3]]"}`,
		`{"text":"ERROR. Real-time transcription service ONLY SUPPORT PCM stream.","is_final":true}`,
		`{"mode":"online","text":null}`, `[]`, `{`,
		`{"is_final":true,"text":"","timestamp":1764264000000,"wav_name":"c1"}`,
		`{"mode":"2pass-offline","spk_name":"unknown","text":"你好。","is_final":true,"timestamp":[[380,560],[560,720]]}`,
		`{"mode":"2pass","wav_name":"c1","is_final":true,"is_end":true}`,
		`{"mode":"online","text":"你好","is_final":true}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 16000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{cfg: Config{Mode: "2pass"}, sc: c.Config, now: time.Now}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start {
				t.Fatalf("bad times %+v from %q", r, msg)
			}
			for _, w := range r.Words {
				if w.Start < 0 || w.End < w.Start {
					t.Fatalf("bad word times %+v from %q", w, msg)
				}
			}
		}
	})
}
