package alibaba

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/asr"
	"lianxin/asr/wsengine"
)

// FuzzHandle feeds gateway events to the protocol: bad input is an error, never a panic or
// a result whose time runs backwards or whose confidence leaves [0,1].
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"header":{"name":"SentenceBegin","status":20000000},"payload":{"index":1,"time":880}}`,
		`{"header":{"name":"TranscriptionResultChanged","status":20000000},"payload":{"index":1,"time":1200,"result":"北京"}}`,
		`{"header":{"name":"SentenceEnd","status":20000000},"payload":{"index":1,"time":2520,"begin_time":880,"result":"北京的天气。","confidence":0.872,"words":[{"text":"北京","startTime":880,"endTime":100}]}}`,
		`{"header":{"name":"TaskFailed","status":40000001,"status_text":"x"}}`,
		`{"header":{"name":"SentenceEnd"},"payload":{"index":1,"time":-5,"begin_time":9,"confidence":3}}`,
		`{"header":{}}`, `{}`, `[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 8000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{cfg: Config{SampleRate: 8000}, sc: c.Config, begin: map[int]time.Duration{}, shown: map[int]bool{}}
		_, _ = p.Handle(c, websocket.TextMessage, []byte(msg))
		for _, r := range rs {
			if r.Start < 0 || r.End < r.Start || r.Confidence > 1 {
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

// A SentenceEnd's confidence 0.0 is NLS saying it computed none: the final carries
// "unknown" (-1), not a certain error; a real score is kept.
func TestZeroConfidenceMeansNotGiven(t *testing.T) {
	for msg, want := range map[string]float64{
		`{"header":{"name":"SentenceEnd","status":20000000},"payload":{"index":1,"time":2520,"begin_time":880,"result":"停水了","confidence":0.0}}`:  -1,
		`{"header":{"name":"SentenceEnd","status":20000000},"payload":{"index":1,"time":2520,"begin_time":880,"result":"停水了","confidence":0.87}}`: 0.87,
		`{"header":{"name":"SentenceEnd","status":20000000},"payload":{"index":1,"time":2520,"begin_time":880,"result":"停水了"}}`:                   -1,
	} {
		var rs []asr.Result
		c := wsengine.Detached(asr.StreamConfig{Partials: true}, 8000, func(r asr.Result) { rs = append(rs, r) })
		p := &protocol{cfg: Config{SampleRate: 8000}, sc: c.Config, begin: map[int]time.Duration{}, shown: map[int]bool{}}
		_, err := p.Handle(c, websocket.TextMessage, []byte(msg))
		if err != nil || len(rs) != 1 || rs[0].Confidence != want {
			t.Fatalf("%s: got %+v, %v; want confidence %v", msg, rs, err, want)
		}
	}
}
