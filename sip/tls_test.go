package sip

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// startTLSServer is startServer with SIP over TLS on a loopback port, its certificate made
// as a first start makes it.
func startTLSServer(t *testing.T, mutate func(*Config)) (*testServer, *x509.CertPool) {
	t.Helper()
	cert, _, err := LoadOrCreateCertificate("", "", t.TempDir(), []string{"127.0.0.1"}, time.Now())
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	s := startServer(t, func(c *Config) {
		c.TLSListen, c.TLSCertificate = "127.0.0.1:0", &cert
		if mutate != nil {
			mutate(c)
		}
	})
	return s, roots
}

// dialTLS opens a TLS connection to the server, verifying its certificate.
func dialTLS(t *testing.T, s *testServer, roots *x509.CertPool) *tcpPeer {
	t.Helper()
	c, err := tls.Dial("tcp", s.TLSAddr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &tcpPeer{t: t, c: c, transport: "tls"}
}

// next reads the next message the server sends on the peer's connection.
func (p *tcpPeer) next() siplib.Message {
	p.t.Helper()
	if p.rd == nil {
		p.rd = bufio.NewReader(p.c)
	}
	require.NoError(p.t, p.c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b, err := readStreamMessage(p.rd)
	require.NoError(p.t, err, "waiting for the server")
	m, err := siplib.ParseMessage(b)
	require.NoError(p.t, err)
	return m
}

func (p *tcpPeer) nextRequest(method siplib.RequestMethod) *siplib.Request {
	p.t.Helper()
	req, ok := p.next().(*siplib.Request)
	require.True(p.t, ok, "a request")
	require.Equal(p.t, method, req.Method)
	return req
}

// reply answers req on the peer's connection.
func (p *tcpPeer) reply(req *siplib.Request, code int, body string) {
	p.t.Helper()
	var res *siplib.Response
	if body != "" {
		res = siplib.NewSDPResponseFromRequest(req, []byte(body))
	} else {
		res = siplib.NewResponseFromRequest(req, code, "OK", nil)
	}
	if to := res.To(); to != nil && !to.Params.Has("tag") {
		to.Params.Add("tag", "seat-tag")
	}
	res.AppendHeader(siplib.NewHeader("Contact", "<sip:seat@127.0.0.1:9;transport=tls>"))
	_, err := io.WriteString(p.c, res.String())
	require.NoError(p.t, err)
}

// A seat whose policy requires TLS is refused over UDP and TCP before any challenge, with
// the reason in the status line, and registers over TLS; others are not affected.
func TestTLSRequiredSeatRegistersOnlyOverTLS(t *testing.T) {
	s, roots := startTLSServer(t, func(c *Config) {
		c.SeatPolicies = Policies{By: map[string]Policy{"seat-07": {TLS: TLSRequired}}}
	})
	udp := newUDPPeer(t, s.Addr().String())
	res := udp.do(udp.register("seat-07", "", 60))
	require.Equal(t, 403, res.StatusCode)
	require.Equal(t, "Forbidden (TLS required)", res.Reason)
	require.Equal(t, 401, udp.do(udp.register("seat-08", "", 60)).StatusCode, "a seat without the policy is challenged")

	tcp := &tcpPeer{t: t, c: dialTCP(t, s)}
	_, err := io.WriteString(tcp.c, tcp.request("REGISTER", "seat-07", "Contact: <sip:seat-07@127.0.0.1:9;transport=tcp>\r\n"))
	require.NoError(t, err)
	code, _, err := tcp.read()
	require.NoError(t, err)
	require.Equal(t, 403, code)
	require.Equal(t, 2.0, s.counter(t, "lianxin_sip_register_requests_total", map[string]string{"result": "tls_required"}))
	_, registered := s.Registration("seat-07")
	require.False(t, registered)

	p := dialTLS(t, s, roots)
	require.Equal(t, 200, p.registerWithAuth("seat-07"))
	reg, ok := s.Registration("seat-07")
	require.True(t, ok)
	require.Equal(t, "TLS", reg.Transport)
}

// The TLS listener has the TCP guard's limits: a connection that never says anything,
// handshake or not, is closed after the idle timeout; a registered seat's is kept.
func TestTLSConnectionsGuarded(t *testing.T) {
	s, roots := startTLSServer(t, func(c *Config) { c.Security.TCPIdleTimeout = 200 * time.Millisecond })
	raw, err := net.Dial("tcp", s.TLSAddr().String())
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	require.True(t, closedByServer(t, raw), "no handshake: closed")
	idle := dialTLS(t, s, roots)
	require.True(t, closedByServer(t, idle.c), "a handshake and nothing more: closed")
	require.GreaterOrEqual(t, s.counter(t, "lianxin_sip_tcp_closed_total", map[string]string{"reason": "idle"}), 2.0)

	seat := dialTLS(t, s, roots)
	require.Equal(t, 200, seat.registerWithAuth("seat-03"))
	time.Sleep(time.Second) // several idle timeouts pass with nothing on the connection
	require.Equal(t, 200, seat.options("still-here"), "the registered seat's connection is still open")

	s2, roots2 := startTLSServer(t, func(c *Config) { c.Security.TCPMaxConnsPerSource = 1 })
	first := dialTLS(t, s2, roots2)
	require.Equal(t, 200, first.options("first"))
	_, err = tls.Dial("tcp", s2.TLSAddr().String(), &tls.Config{RootCAs: roots2, ServerName: "127.0.0.1"})
	require.Error(t, err, "a second connection from the address is over its limit")
}

// A seat registered over TLS is called over the connection it registered on (its Contact
// names a port where nothing listens), with a Contact that keeps the dialog on TLS, and
// an SRTP-only offer when its policy requires SRTP. A plain answer is hung up.
func TestDialTLSSeatWithSRTP(t *testing.T) {
	s, roots := startTLSServer(t, func(c *Config) {
		c.SeatPolicies = Policies{By: map[string]Policy{"seat-07": {TLS: TLSRequired, SRTP: SRTPRequired}}}
	})
	p := dialTLS(t, s, roots)
	p.contact = "127.0.0.1:9"
	require.Equal(t, 200, p.registerWithAuth("seat-07"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	type dialed struct {
		oc  *OutboundCall
		err error
	}
	dial := func() chan dialed {
		done := make(chan dialed, 1)
		go func() {
			oc, err := s.Dial(ctx, DialOptions{Seat: "seat-07", Local: netipLoop(40002), Codecs: []string{PCMU}, CallerID: "1000"})
			done <- dialed{oc, err}
		}()
		return done
	}
	done := dial()
	inv := p.nextRequest(siplib.INVITE)
	require.Equal(t, "TLS", inv.Via().Transport)
	contact := inv.Contact().Address
	require.Equal(t, "tls", contact.UriParams.GetOr("transport", ""), "in-dialog requests come back over TLS")
	require.Equal(t, int(s.TLSAddr().Port()), contact.Port)
	offer, err := parseSDP(inv.Body())
	require.NoError(t, err)
	require.Equal(t, protoSAVP, offer.proto, "no plain RTP offered to a seat that requires SRTP")
	require.Len(t, offer.crypto, 1)
	p.reply(inv, 200, string(sdpOffer("m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+testKey)))
	p.nextRequest(siplib.ACK)
	r := <-done
	require.NoError(t, r.err)
	keys := r.oc.Remote().SRTP
	require.True(t, keys.Enabled())
	require.Equal(t, "0123456789abcdef0123456789abcd", string(keys.Remote))
	require.Equal(t, offer.crypto[0].key, keys.Local, "the gateway sends with the key it offered")
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_call_legs_total", map[string]string{"side": "seat", "transport": "tls", "media": "srtp"}))

	go func() { _ = r.oc.Hangup(context.Background()) }()
	bye := p.nextRequest(siplib.BYE)
	require.Equal(t, "TLS", bye.Via().Transport)
	p.reply(bye, 200, "")

	done = dial()
	inv = p.nextRequest(siplib.INVITE)
	p.reply(inv, 200, string(sdpOffer("m=audio 5000 RTP/AVP 0")))
	p.nextRequest(siplib.ACK)
	bye = p.nextRequest(siplib.BYE)
	p.reply(bye, 200, "")
	r = <-done
	require.ErrorIs(t, r.err, ErrSRTPRequired, "a seat that answers plain RTP is hung up")
}

// A seat that requires TLS is not called while it is registered over anything else (a
// registration kept from before the policy).
func TestDialRefusesSeatRegisteredWithoutTLS(t *testing.T) {
	s, _ := startTLSServer(t, func(c *Config) {
		c.SeatPolicies = Policies{By: map[string]Policy{"seat-07": {TLS: TLSRequired}}}
	})
	s.reg.mu.Lock()
	s.reg.regs["seat-07"] = Registration{Seat: "seat-07", Contact: siplib.Uri{Scheme: "sip", User: "seat-07", Host: "127.0.0.1", Port: 9},
		Transport: "UDP", Expires: s.clock.Now().Add(time.Hour)}
	s.reg.mu.Unlock()
	_, err := s.Dial(context.Background(), DialOptions{Seat: "seat-07", Local: netipLoop(40002), Codecs: []string{PCMU}})
	require.ErrorIs(t, err, ErrTLSRequired)
}

// Callers meet their line's policy: a line that requires SRTP refuses a plain offer with
// 488, one that requires TLS refuses UDP with 403, and a caller who offers SRTP gets SRTP
// back in the early media's answer.
func TestCallerPolicies(t *testing.T) {
	progressed := make(chan Media, 1)
	s := startServerWith(t, func(c *Config) {
		c.CallerPolicies = Policies{By: map[string]Policy{"12366": {SRTP: SRTPRequired}, "12399": {TLS: TLSRequired}}}
	}, func(s *Server) {
		s.handler = func(c *InboundCall) {
			if err := c.Progress(netipLoop(40010)); err == nil {
				progressed <- c.Remote()
			}
			_ = c.Reject(486, "Busy Here")
		}
	})
	caller := newUDPPeer(t, s.Addr().String())
	call := func(number, callID, media string, extra ...string) string {
		body := string(sdpOffer(media, extra...))
		inv := strings.Replace(caller.invite(callID), "sip:12345@", "sip:"+number+"@", 1)
		head, _, _ := strings.Cut(inv, "Content-Length:")
		return head + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	res := caller.do(call("12366", "plain-to-srtp-line", "m=audio 4000 RTP/AVP 0"))
	require.Equal(t, 488, res.StatusCode)
	require.Equal(t, "Not Acceptable Here (SRTP required)", res.Reason)
	res = caller.do(call("12399", "udp-to-tls-line", "m=audio 4000 RTP/AVP 0"))
	require.Equal(t, 403, res.StatusCode)
	require.Equal(t, "Forbidden (TLS required)", res.Reason)
	res = caller.do(call("12345", "dtls", "m=audio 4000 UDP/TLS/RTP/SAVP 0"))
	require.Equal(t, 488, res.StatusCode)

	caller.send(call("12366", "srtp-caller", "m=audio 4000 RTP/SAVP 0", "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:"+testKey))
	var early *siplib.Response
	buf := make([]byte, 65536)
	for early == nil {
		require.NoError(t, caller.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		n, _, err := caller.conn.ReadFromUDP(buf)
		require.NoError(t, err)
		m, err := siplib.ParseMessage(buf[:n])
		require.NoError(t, err)
		if r, ok := m.(*siplib.Response); ok && r.StatusCode == 183 {
			early = r
		}
	}
	ans, err := parseSDP(early.Body())
	require.NoError(t, err)
	require.Equal(t, protoSAVP, ans.proto)
	require.Len(t, ans.crypto, 1)
	require.Equal(t, 5, ans.crypto[0].tag, "the answer names the offer's crypto line")
	m := <-progressed
	require.True(t, m.SRTP.Enabled())
	require.Equal(t, ans.crypto[0].key, m.SRTP.Local, "the caller leg sends with the key the answer carried")
	require.Equal(t, "0123456789abcdef0123456789abcd", string(m.SRTP.Remote))
	require.Equal(t, 486, caller.finalFor("srtp-caller").StatusCode)
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_call_legs_total", map[string]string{"side": "caller", "transport": "udp", "media": "srtp"}))
}

// An SRTP call stays SRTP: a re-INVITE (hold) keeps the gateway's key and takes the
// peer's, and one without crypto is refused with 488 while the call goes on.
func TestReinviteKeepsSRTP(t *testing.T) {
	changed := make(chan Media, 4)
	s := startServerWith(t, nil, func(s *Server) {
		s.handler = func(c *InboundCall) {
			c.OnMediaChange(func(m Media) { changed <- m })
			if err := c.Answer(context.Background(), netipLoop(40020)); err != nil {
				return
			}
			<-c.Context().Done()
		}
	})
	caller := newUDPPeer(t, s.Addr().String())
	crypto := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey
	withBody := func(msg, body string) string {
		head, _, _ := strings.Cut(msg, "Content-Length:")
		return head + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	caller.send(withBody(caller.invite("srtp-hold"), string(sdpOffer("m=audio 4000 RTP/SAVP 0", crypto))))
	ok := caller.finalFor("srtp-hold")
	require.Equal(t, 200, ok.StatusCode)
	first, err := parseSDP(ok.Body())
	require.NoError(t, err)
	require.Len(t, first.crypto, 1)

	toTag, _ := ok.To().Params.Get("tag")
	inDialog := func(method string, cseq int, body string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ok.Contact().Address.String())
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-hold-%d-%s\r\n", caller.addr(), cseq, method)
		b.WriteString("Max-Forwards: 70\r\n")
		fmt.Fprintf(&b, "From: %s\r\n", ok.From().Value())
		fmt.Fprintf(&b, "To: <sip:12345@127.0.0.1>;tag=%s\r\n", toTag)
		b.WriteString("Call-ID: srtp-hold\r\n")
		fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
		fmt.Fprintf(&b, "Contact: <sip:caller@%s>\r\n", caller.addr())
		if body != "" {
			b.WriteString("Content-Type: application/sdp\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		return b.String()
	}
	caller.send(inDialog("ACK", 1, ""))

	newKey := "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString([]byte("abcdefghijklmnopqrstuvwxyz0123"))
	res := caller.do(inDialog("INVITE", 2, string(sdpOffer("m=audio 4000 RTP/SAVP 0", newKey, "a=sendonly"))))
	require.Equal(t, 200, res.StatusCode)
	held, err := parseSDP(res.Body())
	require.NoError(t, err)
	require.Equal(t, RecvOnly, held.dir)
	require.Len(t, held.crypto, 1)
	require.Equal(t, 2, held.crypto[0].tag)
	require.Equal(t, first.crypto[0].key, held.crypto[0].key, "the gateway's key stays")
	caller.send(inDialog("ACK", 2, ""))
	m := <-changed
	require.Equal(t, "abcdefghijklmnopqrstuvwxyz0123", string(m.SRTP.Remote), "the peer's new key is taken")
	require.Equal(t, first.crypto[0].key, m.SRTP.Local)

	res = caller.do(inDialog("INVITE", 3, string(sdpOffer("m=audio 4000 RTP/AVP 0"))))
	require.Equal(t, 488, res.StatusCode, "no fall back to plain RTP mid-call")
	require.Equal(t, 200, caller.do(inDialog("BYE", 4, "")).StatusCode, "the call went on")
}
