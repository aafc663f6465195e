package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func sdpOffer(media string, extra ...string) []byte {
	lines := append([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", media}, extra...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func TestParseSDP(t *testing.T) {
	o, err := parseSDP(sdpOffer("m=audio 4000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"))
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddrPort("127.0.0.1:4000"), o.addr)
	require.Equal(t, []string{PCMA, PCMU}, o.codecs, "the offerer's order of preference")
	require.Equal(t, uint8(101), o.dtmf)
	require.Equal(t, SendOnly, o.dir)
	m := o.media(PCMA)
	require.Equal(t, uint8(8), m.PayloadType)

	// A dynamic payload type mapped to PCMU by rtpmap counts.
	o, err = parseSDP(sdpOffer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/8000"))
	require.NoError(t, err)
	require.Equal(t, uint8(96), o.pts[PCMU])

	for name, tc := range map[string]struct {
		body []byte
		want error
	}{
		"G.729 only":    {sdpOffer("m=audio 4000 RTP/AVP 18"), ErrNoCommonCodec},
		"no audio":      {sdpOffer("m=video 4000 RTP/AVP 96"), ErrNoCommonCodec},
		"port 0":        {sdpOffer("m=audio 0 RTP/AVP 0"), ErrNoCommonCodec},
		"not SDP":       {[]byte("hello"), ErrBadSDP},
		"bad address":   {[]byte("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc=IN IP4 not-an-ip\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), ErrBadSDP},
		"bad payload":   {sdpOffer("m=audio 4000 RTP/AVP 0 999"), ErrBadSDP},
		"wideband PCMU": {sdpOffer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"), ErrNoCommonCodec},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSDP(tc.body)
			require.ErrorIs(t, err, tc.want)
		})
	}
	require.Equal(t, 488, statusFor(ErrNoCommonCodec))
	require.Equal(t, 400, statusFor(ErrBadSDP))
}

func TestAnswerSDPRoundTrips(t *testing.T) {
	w := &sdpWriter{sessionID: 7}
	body := w.build(netip.MustParseAddrPort("127.0.0.1:20000"), []string{PCMU, PCMA},
		map[string]uint8{PCMU: 0, PCMA: 8}, 101, SendOnly.answer(), sdes{}, false)
	o, err := parseSDP(body)
	require.NoError(t, err)
	require.Equal(t, []string{PCMU, PCMA}, o.codecs)
	require.Equal(t, RecvOnly, o.dir)
	require.Equal(t, uint8(101), o.dtmf)
	require.Equal(t, uint16(20000), o.addr.Port())
	require.False(t, o.rtcpMux)
	require.NotContains(t, string(body), "a=rtcp", "RTCP on the port above needs no attribute")

	body = w.build(netip.MustParseAddrPort("127.0.0.1:20000"), []string{PCMU}, map[string]uint8{PCMU: 0}, 0, SendRecv, sdes{}, true)
	o, err = parseSDP(body)
	require.NoError(t, err)
	require.True(t, o.rtcpMux, "rtcp-mux offered or accepted")
}

func TestParseSDPRTCP(t *testing.T) {
	for name, tc := range map[string]struct {
		attrs []string
		mux   bool
		rtcp  string
	}{
		"neither: the port above":    {nil, false, ""},
		"rtcp-mux (RFC 5761)":        {[]string{"a=rtcp-mux"}, true, ""},
		"a=rtcp port (RFC 3605)":     {[]string{"a=rtcp:4011"}, false, "127.0.0.1:4011"},
		"a=rtcp port and address":    {[]string{"a=rtcp:53020 IN IP4 127.0.0.1"}, false, "127.0.0.1:53020"},
		"a=rtcp with an IPv6 host":   {[]string{"a=rtcp:53020 IN IP6 ::1"}, false, "[::1]:53020"},
		"a=rtcp unreadable: ignored": {[]string{"a=rtcp:port"}, false, ""},
		"a=rtcp port 0: ignored":     {[]string{"a=rtcp:0"}, false, ""},
		"a=rtcp bad address":         {[]string{"a=rtcp:4011 IN IP4 nowhere"}, false, ""},
		"both":                       {[]string{"a=rtcp:4001", "a=rtcp-mux"}, true, "127.0.0.1:4001"},
	} {
		t.Run(name, func(t *testing.T) {
			o, err := parseSDP(sdpOffer("m=audio 4000 RTP/AVP 0", tc.attrs...))
			require.NoError(t, err)
			m := o.media(PCMU)
			require.Equal(t, tc.mux, m.RTCPMux)
			if tc.rtcp == "" {
				require.False(t, m.RTCP.IsValid())
			} else {
				require.Equal(t, tc.rtcp, m.RTCP.String())
			}
		})
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add(sdpOffer("m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add(sdpOffer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMA/8000", "a=inactive"))
	f.Add([]byte("v=0\r\n"))
	f.Add(sdpOffer("m=audio 4000 RTP/AVP 0", "a=rtcp:4001 IN IP4 127.0.0.1", "a=rtcp-mux"))
	// what the real peers send: baresip 1.0 with rtcp_mux, sipp's uac_pcap
	f.Add(sdpOffer("m=audio 20004 RTP/AVP 0 8 101", "b=AS:64", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=sendrecv", "a=label:1",
		"a=ssrc:3055434564 cname:2f5a3c1e-8a4b", "a=rtcp-rsize", "a=rtcp-mux", "a=ptime:20"))
	f.Add(sdpOffer("m=audio 6000 RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-11,16"))
	f.Add(sdpOffer("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNk|2^31"))
	f.Add(sdpOffer("m=audio 4000 RTP/AVP 0", "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:MDEy|1:4;inline:x UNENCRYPTED_SRTP"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parseSDP(body)
		if err == nil && (len(o.codecs) == 0 || !o.addr.IsValid()) {
			t.Fatalf("accepted an offer without a codec or address: %+v", o)
		}
	})
}

func TestBadRequestResponse(t *testing.T) {
	f := &badRequestFilter{ua: "test"}
	req := "INVITE sip:1@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: zz INVITE\r\n\r\n"
	res := string(f.response([]byte(req)))
	require.True(t, strings.HasPrefix(res, "SIP/2.0 400 Bad Request\r\n"))
	require.Contains(t, res, "Via: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n")
	require.Contains(t, res, "Call-ID: x\r\n")
	require.Nil(t, f.response([]byte("SIP/2.0 200 OK\r\nVia: x\r\n\r\n")), "responses are dropped, never answered")
	require.Nil(t, f.response([]byte("garbage")), "not a request")
	require.Nil(t, f.response([]byte("INVITE sip:1@h SIP/2.0\r\nCall-ID: x\r\n\r\n")), "no Via: nowhere to answer")
}

// G.722 is "G722/8000" (RFC 3551's clock rate, though it samples at 16 kHz) on static
// payload type 9, or a dynamic type mapped to it; a G722 rtpmap at 16000 is someone else's.
func TestParseSDPG722(t *testing.T) {
	o, err := parseSDP(sdpOffer("m=audio 4000 RTP/AVP 9 0"))
	require.NoError(t, err)
	require.Equal(t, []string{G722, PCMU}, o.codecs)
	require.Equal(t, uint8(9), o.pts[G722])
	c, ok := o.pick([]string{PCMU, PCMA})
	require.True(t, ok)
	require.Equal(t, PCMU, c, "the first codec the leg may use, in the offerer's order")

	o, err = parseSDP(sdpOffer("m=audio 4000 RTP/AVP 100 8", "a=rtpmap:100 G722/8000"))
	require.NoError(t, err)
	require.Equal(t, uint8(100), o.pts[G722])

	_, err = parseSDP(sdpOffer("m=audio 4000 RTP/AVP 100", "a=rtpmap:100 G722/16000"))
	require.ErrorIs(t, err, ErrNoCommonCodec)

	w := &sdpWriter{sessionID: 1}
	body := string(w.build(netip.MustParseAddrPort("127.0.0.1:20000"), []string{G722, PCMU},
		map[string]uint8{G722: 9, PCMU: 0}, 101, SendRecv, sdes{}, false))
	require.Contains(t, body, "m=audio 20000 RTP/AVP 9 0 101\r\n")
	require.Contains(t, body, "a=rtpmap:9 G722/8000\r\n")
}
