package sip

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// BenchmarkTrunkAdmit is the per-INVITE cost of deciding a new call with 1,000 trunk
// prefixes (100 trunks of 10) and 60 registered seats: the source lookup, the seat check,
// the number plan, the line lookup. README records the figure.
func BenchmarkTrunkAdmit(b *testing.B) {
	var trunks []Trunk
	for i := range 100 {
		t := Trunk{Name: fmt.Sprintf("carrier-%03d", i), Numbers: NumberPlan{AreaCode: "580"}}
		for j := range 10 {
			t.Sources = append(t.Sources, netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", i, j*16)))
		}
		trunks = append(trunks, t)
	}
	s, err := New(Config{Listen: "127.0.0.1:0", Inbound: Inbound{Trunks: trunks, Lines: map[string]bool{"12345": false, "12366": false}}}, nil)
	require.NoError(b, err)
	for i := range 60 {
		seat := fmt.Sprintf("seat-%02d", i+1)
		s.reg.regs[seat] = Registration{Seat: seat, Source: fmt.Sprintf("192.168.1.%d:5060", i+1), Expires: time.Now().Add(time.Hour)}
	}
	for _, tc := range []struct{ name, source string }{
		{"trunk", "10.99.144.7:5060"},
		{"stranger", "172.16.0.1:5060"},
	} {
		msg, err := siplib.ParseMessage([]byte("INVITE sip:+8658012345@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.99.144.7;branch=z9hG4bK-1\r\n" +
			"From: <sip:x@10.99.144.7>;tag=1\r\nTo: <sip:+8658012345@10.0.0.1>\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
		require.NoError(b, err)
		req := msg.(*siplib.Request)
		req.SetSource(tc.source)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.inbound.admit(req)
			}
		})
	}
}
