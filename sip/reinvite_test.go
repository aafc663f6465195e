package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// answeringServer answers every call at a fixed local RTP address and reports each media
// change a re-INVITE makes, until the caller hangs up.
func answeringServer(t *testing.T) (*testServer, chan Media, chan *InboundCall) {
	changes, calls := make(chan Media, 8), make(chan *InboundCall, 1)
	ts := startServerWith(t, nil, func(s *Server) {
		s.handler = func(c *InboundCall) {
			c.OnMediaChange(func(m Media) { changes <- m })
			calls <- c
			if c.Answer(context.Background(), netip.MustParseAddrPort("127.0.0.1:30000")) == nil {
				<-c.Context().Done()
			}
		}
	})
	return ts, changes, calls
}

// dialogReq builds a request of the call: the caller's tag and the gateway's to-tag (none
// for the first INVITE).
func dialogReq(p *udpPeer, method string, cseq int, callID, fromTag, toTag, body string) string {
	p.n++
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:12345@%s SIP/2.0\r\n", method, p.srv)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", p.addr(), callID, p.n)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:caller@127.0.0.1>;tag=%s\r\n", fromTag)
	b.WriteString("To: <sip:12345@127.0.0.1>")
	if toTag != "" {
		fmt.Fprintf(&b, ";tag=%s", toTag)
	}
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:caller@%s>\r\n", p.addr())
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

func offerBody(fmts string, extra ...string) string {
	return string(sdpOffer("m=audio 4000 RTP/AVP "+fmts, extra...))
}

// A re-INVITE that changes the caller's codec is renegotiated (200 with the new codec, the
// call told of it); one offering only codecs a caller's leg does not use (G.722, which the
// trunk side never gets, or G.729) is refused with 488 and the call keeps its media.
func TestReinviteRenegotiatesCodec(t *testing.T) {
	ts, changes, calls := answeringServer(t)
	p := newUDPPeer(t, ts.Addr().String())
	const callID = "reinvite-codec"
	p.send(dialogReq(p, "INVITE", 1, callID, "caller-tag", "", offerBody("9 8 0")))
	res := p.finalFor(callID)
	require.Equal(t, 200, res.StatusCode)
	o, err := parseSDP(res.Body())
	require.NoError(t, err)
	require.Equal(t, []string{PCMA}, o.codecs, "a caller offering G.722 first gets its first G.711 law")
	c := <-calls
	require.Equal(t, PCMA, c.Remote().Codec)
	require.Equal(t, []string{PCMA, PCMU}, c.Codecs())
	fromTag, _ := res.From().Params.Get("tag")
	toTag, _ := res.To().Params.Get("tag")
	p.send(dialogReq(p, "ACK", 1, callID, fromTag, toTag, ""))

	p.send(dialogReq(p, "INVITE", 2, callID, fromTag, toTag, offerBody("0")))
	res = p.finalFor(callID)
	require.Equal(t, 200, res.StatusCode, "PCMA → PCMU is renegotiated, not refused")
	o, err = parseSDP(res.Body())
	require.NoError(t, err)
	require.Equal(t, []string{PCMU}, o.codecs)
	p.send(dialogReq(p, "ACK", 2, callID, fromTag, toTag, ""))
	select {
	case m := <-changes:
		require.Equal(t, PCMU, m.Codec)
		require.Equal(t, uint8(0), m.PayloadType)
	case <-time.After(5 * time.Second):
		t.Fatal("the call was not told of the new codec")
	}
	require.Equal(t, PCMU, c.Remote().Codec)

	for i, fmts := range []string{"9", "18"} {
		p.send(dialogReq(p, "INVITE", 3+i, callID, fromTag, toTag, offerBody(fmts)))
		res = p.finalFor(callID)
		require.Equal(t, siplib.StatusNotAcceptableHere, res.StatusCode, "offer %s", fmts)
		p.send(dialogReq(p, "ACK", 3+i, callID, fromTag, toTag, ""))
	}
	require.Equal(t, PCMU, c.Remote().Codec, "a refused offer leaves the media as it was")
	require.Empty(t, changes)
	p.send(dialogReq(p, "BYE", 5, callID, fromTag, toTag, ""))
	require.Equal(t, 200, p.finalFor(callID).StatusCode)
}

// A caller that offers only G.722 gets 488: the trunk side stays G.711.
func TestCallerOfferingOnlyG722Refused(t *testing.T) {
	ts, _, _ := answeringServer(t)
	p := newUDPPeer(t, ts.Addr().String())
	p.send(dialogReq(p, "INVITE", 1, "g722-only", "caller-tag", "", offerBody("9")))
	require.Equal(t, siplib.StatusNotAcceptableHere, p.finalFor("g722-only").StatusCode)
}
