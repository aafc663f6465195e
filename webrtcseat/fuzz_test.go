package webrtcseat

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzSessionMessage: whatever a page sends, the engine answers with an error or nothing,
// and never panics.
func FuzzSessionMessage(f *testing.F) {
	for _, s := range []string{`{"type":"phone.register","on":true}`, `{"type":"phone.offer","call":"x","pc":"p","sdp":"v=0"}`,
		`{"type":"phone.dtmf","digits":"12#"}`, `{"type":"monitor.start","seat":"seat-01","mode":"listen","pc":"a","sdp":"v=0"}`,
		`{"type":"phone.candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}}`, `{`, `[]`} {
		f.Add("phone.offer", s)
		f.Add("monitor.start", s)
	}
	e, err := New(Config{Codecs: []string{"PCMU"}}, Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	f.Fuzz(func(t *testing.T, typ, msg string) {
		for _, c := range []Client{{User: "seat-01", Seat: "seat-01"}, {User: "boss", Admin: true}} {
			s := e.Open(c, func(string, any) bool { return true })
			_ = s.Message(context.Background(), typ, []byte(msg))
			_ = s.Close()
		}
	})
}

// FuzzChooseCodec: any offer text gives a configured codec or an error.
func FuzzChooseCodec(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n")
	f.Add("m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	e, err := New(Config{}, Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	f.Fuzz(func(t *testing.T, offer string) {
		mime, err := e.chooseCodec(offer)
		if err == nil && e.apis[strings.ToLower(mime)] == nil {
			t.Fatalf("chose %q, which is not configured", mime)
		}
	})
}
