package vosk

import (
	"testing"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzHandle feeds server messages to the protocol: bad input is an error, never a panic
// or a result whose time runs backwards or whose confidence leaves [0,1].
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"partial" : "你好 我"}`,
		`{"result":[{"conf":0.98,"end":1.53,"start":1.02,"word":"你好"}],"text":"你好"}`,
		`{"text" : ""}`,
		`{"result":[{"conf":7,"end":-1,"start":3,"word":"x"}],"text":"x"}`,
		`{"alternatives":[{"confidence":231.7,"text":"x"}]}`, `null`, `{"partial":null}`,
		`{"alternatives" : [{"text": "", "confidence" : 1.0}] }`, `{"alternatives":[]}`,
		`{"alternatives":[{"result":[{"end":2.1,"start":9,"word":"坏"}],"text":"路灯 坏"}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 8000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{cfg: Config{SampleRate: 8000}, sc: c.Config}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start || r.Confidence > 1 {
				t.Fatalf("bad result %+v from %q", r, msg)
			}
		}
	})
}
