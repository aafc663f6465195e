package tencent

import (
	"testing"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzHandle feeds service messages to the protocol: bad input is an error, never a
// panic or a result whose time runs backwards. Seeds are the doc's message shapes.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"message":"success","voice_id":"CzhjnqBkv8lk5pRUxhpX"}`,
		`{"code":0,"message":"success","voice_id":"CzhjnqBkv8lk5pRUxhpX","message_id":"CzhjnqBkv8lk5pRUxhpX_11_0","result":{"slice_type":0,"index":0,"start_time":0,"end_time":1240,"voice_text_str":"实时","word_size":0,"word_list":[]}}`,
		`{"code":0,"message":"success","voice_id":"CzhjnqBkv8lk5pRUxhpX","message_id":"CzhjnqBkv8lk5pRUxhpX_33_0","result":{"slice_type":2,"index":0,"start_time":0,"end_time":2840,"voice_text_str":"实时语音识别","word_size":1,"word_list":[{"word":"实时","start_time":0,"end_time":-3}]}}`,
		`{"code":0,"message":"success","voice_id":"CzhjnqBkv8lk5pRUxhpX","message_id":"CzhjnqBkv8lk5pRUxhpX_241","final":1}`,
		`{"code":4002,"message":"鉴权失败","voice_id":"x"}`,
		`{"code":0,"result":{"slice_type":7}}`, `{"result":{}}`, `{}`, `[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 8000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{sc: c.Config, rate: 8000, ids: map[int]int{}, shown: map[int]bool{}}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start {
				t.Fatalf("bad result %+v from %q", r, msg)
			}
			for _, w := range r.Words {
				if w.Start < 0 || w.End < w.Start {
					t.Fatalf("bad word %+v from %q", w, msg)
				}
			}
		}
	})
}
