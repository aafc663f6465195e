package sip

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

// seen records what the call handler was given.
type seen struct {
	mu    sync.Mutex
	calls map[string]*InboundCall
}

func (s *seen) handler(c *InboundCall) {
	s.mu.Lock()
	s.calls[c.CallID] = c
	s.mu.Unlock()
	_ = c.Reject(486, "Busy Here")
}

func (s *seen) get(id string) *InboundCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// startTrunkServer starts a server with inbound set and a handler that records each call.
func startTrunkServer(t *testing.T, in Inbound, mutate ...func(*Config)) (*testServer, *seen) {
	t.Helper()
	got := &seen{calls: map[string]*InboundCall{}}
	s := startServerWith(t, func(c *Config) {
		c.Inbound = in
		for _, f := range mutate {
			f(c)
		}
	}, func(s *Server) { s.handler = got.handler })
	return s, got
}

// inviteTo builds an INVITE for ruri with To naming to, and extra header lines.
func (p *udpPeer) inviteTo(callID, ruri, to string, extra ...string) string {
	p.n++
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE %s SIP/2.0\r\n", ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", p.addr(), callID, p.n)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:caller@127.0.0.1>;tag=f%d\r\n", p.n)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	fmt.Fprintf(&b, "CSeq: %d INVITE\r\n", p.n)
	fmt.Fprintf(&b, "Contact: <sip:caller@%s>\r\n", p.addr())
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Type: application/sdp\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// peerFrom is a UDP peer whose socket is bound to ip (any 127/8 address is loopback).
func peerFrom(t *testing.T, ip, srv string) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return udpPeerOn(t, c, srv)
}

var lines = map[string]bool{"12345": false, "12366": false, "110": true}

func TestTrunkCallsKnownBySourceReachTheirLine(t *testing.T) {
	s, got := startTrunkServer(t, Inbound{Lines: lines, Trunks: []Trunk{
		{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/24")}, Numbers: NumberPlan{AreaCode: "580"}},
		// more specific: one address inside the carrier's prefix is a PBX of its own
		{Name: "office", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}},
	}})
	gw := s.Addr().String()
	carrier := peerFrom(t, "127.0.0.1", gw)
	for i, ruri := range []string{"sip:+8658012345@" + gw, "sip:%2B86%20580%2012345@" + gw, "tel:+86-580-12345",
		"sip:0580-12345@" + gw + ";user=phone", "sip:058012345@" + gw} {
		id := fmt.Sprintf("carrier-%d", i)
		carrier.send(carrier.inviteTo(id, ruri, "sip:12345@"+gw))
		require.Equal(t, 486, carrier.finalFor(id).StatusCode, ruri)
		c := got.get(id)
		require.NotNil(t, c, ruri)
		require.Equal(t, "carrier", c.Trunk.Name)
		require.Equal(t, "12345", c.Number, ruri)
	}
	require.Equal(t, "+8658012345", got.get("carrier-0").Dialled)

	office := peerFrom(t, "127.0.0.3", gw)
	office.send(office.inviteTo("office-1", "sip:12366@"+gw, "sip:12366@"+gw))
	require.Equal(t, 486, office.finalFor("office-1").StatusCode)
	require.Equal(t, "office", got.get("office-1").Trunk.Name, "the most specific prefix names the trunk")

	carrier.send(carrier.inviteTo("nobody", "sip:+8658099999@"+gw, "sip:99999@"+gw))
	res := carrier.finalFor("nobody")
	require.Equal(t, 404, res.StatusCode, "a number no line has")
	require.Nil(t, got.get("nobody"))

	require.Equal(t, 5.0, s.counter(t, "lianxin_trunk_invites_total", map[string]string{"trunk": "carrier", "result": "admitted"}))
	require.Equal(t, 1.0, s.counter(t, "lianxin_trunk_invites_total", map[string]string{"trunk": "carrier", "result": "not_found"}))
}

func TestUnknownSourcesRefusedOnceTrunksExist(t *testing.T) {
	s, got := startTrunkServer(t, Inbound{Lines: lines, Trunks: []Trunk{
		{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}})
	gw := s.Addr().String()
	stranger := peerFrom(t, "127.0.0.2", gw)
	stranger.send(stranger.inviteTo("closed", "sip:12345@"+gw, "sip:12345@"+gw))
	res := stranger.finalFor("closed")
	require.Equal(t, 403, res.StatusCode)
	require.Contains(t, res.Reason, "unknown source")
	require.Nil(t, got.get("closed"))

	stranger.send(stranger.inviteTo("open-line", "sip:110@"+gw, "sip:110@"+gw))
	require.Equal(t, 486, stranger.finalFor("open-line").StatusCode, "an open line takes anyone")
	c := got.get("open-line")
	require.Nil(t, c.Trunk)
	require.Equal(t, "110", c.Number)
	require.Equal(t, 1.0, s.counter(t, "lianxin_trunk_invites_total", map[string]string{"trunk": "none", "result": "forbidden"}))
}

func TestOpenSwitchAndNoTrunks(t *testing.T) {
	// no trunks: every call is taken, with its number as dialled (today's behaviour)
	s, got := startTrunkServer(t, Inbound{})
	p := peerFrom(t, "127.0.0.2", s.Addr().String())
	p.send(p.inviteTo("any", "sip:+8658012345@"+s.Addr().String(), "sip:x@127.0.0.1"))
	require.Equal(t, 486, p.finalFor("any").StatusCode)
	require.Equal(t, "+8658012345", got.get("any").Number)

	closed := false
	s2, _ := startTrunkServer(t, Inbound{Open: &closed})
	p2 := peerFrom(t, "127.0.0.2", s2.Addr().String())
	p2.send(p2.inviteTo("shut", "sip:12345@"+s2.Addr().String(), "sip:12345@127.0.0.1"))
	require.Equal(t, 403, p2.finalFor("shut").StatusCode, "open: false closes a gateway without trunks")

	open := true
	s3, got3 := startTrunkServer(t, Inbound{Open: &open, Lines: lines, Trunks: []Trunk{
		{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}})
	p3 := peerFrom(t, "127.0.0.2", s3.Addr().String())
	p3.send(p3.inviteTo("open", "sip:12345@"+s3.Addr().String(), "sip:12345@127.0.0.1"))
	require.Equal(t, 486, p3.finalFor("open").StatusCode, "open: true takes unknown sources beside the trunks")
	require.Nil(t, got3.get("open").Trunk)
}

// pbxAuth answers a 407 challenge for an INVITE to ruri.
func pbxAuth(t *testing.T, res *siplib.Response, ruri, user, password string, nc int) string {
	t.Helper()
	require.Equal(t, 407, res.StatusCode)
	chal, err := digest.ParseChallenge(res.GetHeader("Proxy-Authenticate").Value())
	require.NoError(t, err)
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: ruri, Username: user, Password: password, Count: nc})
	require.NoError(t, err)
	return "Proxy-Authorization: " + cred.String()
}

func TestPBXTrunkAuthenticatesWithDigest(t *testing.T) {
	s, got := startTrunkServer(t, Inbound{Lines: lines, Trunks: []Trunk{
		{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		{Name: "pbx", Username: "pbx-east", Password: "pbx-pw", Numbers: NumberPlan{AreaCode: "580"}}}})
	gw := s.Addr().String()
	ruri := "sip:058012345@" + gw
	pbx := peerFrom(t, "127.0.0.2", gw)
	pbx.send(pbx.inviteTo("pbx-1", ruri, ruri))
	res := pbx.finalFor("pbx-1")
	require.Contains(t, res.GetHeader("Proxy-Authenticate").Value(), `qop="auth"`)
	auth := pbxAuth(t, res, ruri, "pbx-east", "pbx-pw", 1)
	pbx.send(pbx.inviteTo("pbx-1", ruri, ruri, auth))
	require.Equal(t, 486, pbx.finalFor("pbx-1").StatusCode)
	c := got.get("pbx-1")
	require.Equal(t, "pbx", c.Trunk.Name)
	require.Equal(t, "12345", c.Number, "the PBX trunk's own number plan")

	pbx.send(pbx.inviteTo("replay", ruri, ruri, auth))
	require.Equal(t, 407, pbx.finalFor("replay").StatusCode, "a counted nonce is not taken twice")
	require.Nil(t, got.get("replay"))

	pbx.send(pbx.inviteTo("wrong", ruri, ruri))
	bad := pbxAuth(t, pbx.finalFor("wrong"), ruri, "pbx-east", "guess", 1)
	pbx.send(pbx.inviteTo("wrong", ruri, ruri, bad))
	require.Equal(t, 403, pbx.finalFor("wrong").StatusCode)
	require.Nil(t, got.get("wrong"))
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_trunk_auth_total", map[string]string{"result": "forbidden"}))
}

// Wrong answers from one address block its trunk INVITEs, as a seat's REGISTERs are
// blocked.
func TestPBXGuessingIsBlocked(t *testing.T) {
	s, _ := startTrunkServer(t, Inbound{Trunks: []Trunk{{Name: "pbx", Username: "pbx-east", Password: "pbx-pw"}}},
		func(c *Config) { c.Security.AuthMaxFailures = 3 })
	gw := s.Addr().String()
	ruri := "sip:12345@" + gw
	p := peerFrom(t, "127.0.0.2", gw)
	for i := range 3 {
		id := fmt.Sprintf("guess-%d", i)
		p.send(p.inviteTo(id, ruri, ruri))
		p.send(p.inviteTo(id, ruri, ruri, pbxAuth(t, p.finalFor(id), ruri, "pbx-east", "guess", 1)))
		require.Equal(t, 403, p.finalFor(id).StatusCode)
	}
	p.send(p.inviteTo("right", ruri, ruri))
	auth := pbxAuth(t, p.finalFor("right"), ruri, "pbx-east", "pbx-pw", 1)
	p.send(p.inviteTo("right", ruri, ruri, auth))
	res := p.finalFor("right")
	require.Equal(t, 503, res.StatusCode, "blocked, even with the right password")
	require.NotNil(t, res.GetHeader("Retry-After"))
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_auth_blocks_total", nil))
}

func TestTrunkPolicies(t *testing.T) {
	s, got := startTrunkServer(t, Inbound{Trunks: []Trunk{
		{Name: "secure", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, TLS: TLSRequired},
		{Name: "media", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, SRTP: SRTPRequired, DID: DIDTo,
			Register: &TrunkRegistration{Registrar: "127.0.0.9:5999", Username: "0580123450"}},
	}})
	gw := s.Addr().String()
	p := peerFrom(t, "127.0.0.1", gw)
	p.send(p.inviteTo("udp", "sip:12345@"+gw, "sip:12345@"+gw))
	res := p.finalFor("udp")
	require.Equal(t, 403, res.StatusCode)
	require.Contains(t, res.Reason, "TLS")

	m := peerFrom(t, "127.0.0.2", gw)
	m.send(m.inviteTo("plain", "sip:0580123450@"+gw, "sip:12366@"+gw))
	res = m.finalFor("plain")
	require.Equal(t, 488, res.StatusCode, "the trunk's srtp: required holds for its calls")
	require.Equal(t, "Not Acceptable Here (SRTP required)", res.Reason)
	srtp := m.inviteTo("did", "sip:0580123450@"+gw, "sip:12366@"+gw)
	head, _, _ := strings.Cut(srtp, "Content-Length:")
	body := string(sdpOffer("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey))
	m.send(head + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
	require.Equal(t, 486, m.finalFor("did").StatusCode)
	c := got.get("did")
	require.Equal(t, SRTPRequired, c.Trunk.SRTP, "the call carries its trunk's media policy")
	require.Equal(t, "12366", c.Number, "the DID is read from To")
	require.True(t, c.Remote().SRTP.Enabled(), "and the call is SRTP")
}

// With a registered contact the carrier sends its INVITEs to, auto reads the DID from To;
// elsewhere from the Request-URI.
func TestDIDAuto(t *testing.T) {
	tr := &Trunk{DID: DIDAuto, Register: &TrunkRegistration{Username: "0580123450"}}
	req := func(ruri, to string) *siplib.Request {
		msg, err := siplib.ParseMessage([]byte("INVITE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n" +
			"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <" + to + ">\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
		require.NoError(t, err)
		return msg.(*siplib.Request)
	}
	require.Equal(t, "+8658012345", tr.dialled(req("sip:0580123450@10.0.0.1", "sip:+8658012345@carrier")))
	require.Equal(t, "12366", tr.dialled(req("sip:12366@10.0.0.1", "sip:0580123450@carrier")))
	require.Equal(t, "+86-580-12345", tr.dialled(req("tel:+86-580-12345", "sip:x@carrier")))
	tr.DID = DIDRequestURI
	require.Equal(t, "0580123450", tr.dialled(req("sip:0580123450@10.0.0.1", "sip:+8658012345@carrier")))
}

func TestTrunkConfigRefused(t *testing.T) {
	src := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		trunks []Trunk
		want   string
	}{
		{[]Trunk{{Sources: src}}, "needs a name"},
		{[]Trunk{{Name: "a"}}, "sources"},
		{[]Trunk{{Name: "a", Sources: src, Username: "u", Password: "p"}}, "not both"},
		{[]Trunk{{Name: "a", Username: "u"}}, "password"},
		{[]Trunk{{Name: "a", Sources: src, DID: "from"}}, "did"},
		{[]Trunk{{Name: "a", Sources: src, Register: &TrunkRegistration{Registrar: "x:y", Username: "u"}}}, "registrar"},
		{[]Trunk{{Name: "a", Sources: src, Register: &TrunkRegistration{Registrar: "carrier.test:0", Username: "u"}}}, "registrar"},
		{[]Trunk{{Name: "a", Sources: src, Register: &TrunkRegistration{Registrar: "x", Username: "u", Transport: "sctp"}}}, "transport"},
		{[]Trunk{{Name: "a", Sources: src}, {Name: "a", Sources: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}, "two trunks"},
		{[]Trunk{{Name: "a", Sources: src}, {Name: "b", Sources: src}}, "already"},
	} {
		_, err := New(Config{Listen: "127.0.0.1:0", Inbound: Inbound{Trunks: tc.trunks}}, nil)
		require.ErrorContains(t, err, tc.want)
	}
}

// A registered seat phone is no trunk caller, even inside the trunk's prefix.
func TestSeatPhoneIsNoTrunk(t *testing.T) {
	s, got := startTrunkServer(t, Inbound{Lines: lines, Trunks: []Trunk{
		{Name: "lan", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}})
	seat := newUDPPeer(t, s.Addr().String())
	chal := seat.challenge("seat-01")
	require.Equal(t, 200, seat.do(seat.register("seat-01", seat.authorization(chal, "seat-01", testPassword, 1), 60)).StatusCode)
	seat.send(seat.invite("from-seat"))
	require.Equal(t, 403, seat.finalFor("from-seat").StatusCode)
	require.Nil(t, got.get("from-seat"))
	other := newUDPPeer(t, s.Addr().String())
	other.send(other.invite("from-lan"))
	require.Equal(t, 486, other.finalFor("from-lan").StatusCode)
	require.Equal(t, "lan", got.get("from-lan").Trunk.Name)
}
