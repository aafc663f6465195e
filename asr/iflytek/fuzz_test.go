package iflytek

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
		`{"action":"started","code":"0","data":"","desc":"success","sid":"rta0000000a@ch312c0e3f63609f0900"}`,
		`{"action":"result","code":"0","data":"{\"seg_id\":5,\"cn\":{\"st\":{\"bg\":\"820\",\"ed\":\"2300\",\"type\":\"1\",\"rt\":[{\"ws\":[{\"cw\":[{\"w\":\"你好\",\"wp\":\"n\"}],\"wb\":1,\"we\":10}]}]}}}","desc":"success","sid":"rta0"}`,
		`{"action":"result","code":"0","data":"{\"seg_id\":5,\"cn\":{\"st\":{\"bg\":\"820\",\"ed\":\"2300\",\"type\":\"0\",\"rt\":[{\"ws\":[{\"cw\":[{\"w\":\"你好\",\"wp\":\"n\"}]},{\"cw\":[{\"w\":\"。\",\"wp\":\"p\"}]}]}]}}}","desc":"success","sid":"rta0"}`,
		`{"action":"result","code":"0","data":"{\"seg_id\":1,\"cn\":{\"st\":{\"bg\":\"9000\",\"ed\":\"-5\",\"type\":\"0\",\"rt\":[]}}}"}`,
		`{"action":"result","code":"0","data":"{\"biz\":\"trans\",\"src\":\"你好\",\"dst\":\"hello\"}"}`,
		`{"action":"error","code":"10105","data":"","desc":"illegal access|illegal signa","sid":"rta0"}`,
		`{"action":"result","data":"["}`, `{}`, `[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, Rate, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{sc: c.Config}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start {
				t.Fatalf("bad result %+v from %q", r, msg)
			}
		}
	})
}
