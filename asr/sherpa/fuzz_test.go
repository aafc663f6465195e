package sherpa

import (
	"testing"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzHandle feeds server results to the protocol: bad input is an error, never a panic or
// a result whose time runs backwards or whose confidence leaves [0,1].
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"text":"你好","tokens":["你","好"],"timestamps":[0.48,0.64],"ys_probs":[-0.01,-0.2],"segment":0,"start_time":0.00,"is_final":false,"is_eof":false}`,
		`{"text":"你好请问","tokens":["你"],"timestamps":[9],"is_final":true}`,
		`{"text":"x","tokens":["x"],"timestamps":[-3],"ys_probs":[5],"start_time":-1,"is_final":true}`,
		`Done!`, `{"text":null}`, `{"text":"a","ys_probs":[NaN]}`,
		`{"text": "\u4f60\u597d", "segment": 0}`, `{"text": "", "segment": 7}`,
		`{ "text": "x", "tokens": ["x"], "timestamps": [0.10], "segment": 0, "start_time": 3.00, "is_final": true}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 16000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{sc: c.Config}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start || r.Confidence > 1 {
				t.Fatalf("bad result %+v from %q", r, msg)
			}
			for _, w := range r.Words {
				if w.Start < 0 || w.End < w.Start || w.Confidence > 1 {
					t.Fatalf("bad word %+v from %q", w, msg)
				}
			}
		}
	})
}
