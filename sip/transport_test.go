package sip

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// TestLargeResponseGoesOverUDP: RFC 3261 §18.2.2 sends a response over UDP whatever its
// size. longreq's 183 echoes headers well over 1300 bytes and must arrive whole.
func TestLargeResponseGoesOverUDP(t *testing.T) {
	s := startTortureServer(t)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.WriteToUDP(readTorture(t, "longreq"), net.UDPAddrFromAddrPort(s.Addr()))
	require.NoError(t, err)
	buf := make([]byte, 65535)
	for {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
		n, err := c.Read(buf)
		require.NoError(t, err, "no 183 for longreq")
		if statusCode(buf[:n]) == siplib.StatusSessionInProgress {
			require.Greater(t, n, siplib.UDPMTUSize-200, "the 183 should be over the MTU limit")
			return
		}
	}
}

// seatPeer is a phone at one loopback port: it answers every INVITE with 486 on
// whichever transport the INVITE came, and reports the INVITEs it saw.
type seatPeer struct {
	udp     *net.UDPConn
	tcp     net.Listener
	invites chan received
}

type received struct {
	transport string
	size      int
	req       *siplib.Request
}

// startSeatPeer binds UDP on a free loopback port and, when withTCP, TCP on the same.
func startSeatPeer(t *testing.T, withTCP bool) *seatPeer {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	p := &seatPeer{udp: udp, invites: make(chan received, 8)}
	t.Cleanup(func() { udp.Close() })
	if withTCP {
		p.tcp, err = net.Listen("tcp", udp.LocalAddr().String())
		require.NoError(t, err)
		t.Cleanup(func() { p.tcp.Close() })
		go p.serveTCP(t)
	}
	go p.serveUDP(t)
	return p
}

// nextInvite waits for the next INVITE the peer saw.
func (p *seatPeer) nextInvite(t *testing.T) received {
	select {
	case r := <-p.invites:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the peer got no INVITE")
		return received{}
	}
}

func (p *seatPeer) addr() netip.AddrPort { return p.udp.LocalAddr().(*net.UDPAddr).AddrPort() }

// busy parses an INVITE, reports it and returns the 486 for it (nil for anything else).
func (p *seatPeer) busy(t *testing.T, transport string, data []byte) []byte {
	msg, err := siplib.NewParser().ParseSIP(data)
	if err != nil {
		t.Errorf("peer: unparseable message over %s: %v", transport, err)
		return nil
	}
	req, ok := msg.(*siplib.Request)
	if !ok || !req.IsInvite() {
		return nil
	}
	p.invites <- received{transport: transport, size: len(data), req: req}
	res := siplib.NewResponseFromRequest(req, siplib.StatusBusyHere, "Busy Here", nil)
	return []byte(res.String())
}

func (p *seatPeer) serveUDP(t *testing.T) {
	buf := make([]byte, 65535)
	for {
		n, from, err := p.udp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if res := p.busy(t, "udp", buf[:n]); res != nil {
			_, _ = p.udp.WriteToUDP(res, from)
		}
	}
}

func (p *seatPeer) serveTCP(t *testing.T) {
	for {
		c, err := p.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			rd := bufio.NewReader(c)
			for {
				msg, err := readStreamMessage(rd)
				if err != nil {
					return
				}
				if res := p.busy(t, "tcp", msg); res != nil {
					_, _ = c.Write(res)
				}
			}
		}()
	}
}

// dialLarge registers seat "s1" at peer over UDP and dials it with a caller ID long
// enough to make the INVITE larger than UDP allows (RFC 3261 §18.1.1: 1300 bytes).
func dialLarge(t *testing.T, s *Server, peer *seatPeer) {
	contact := siplib.Uri{Scheme: "sip", User: "s1", Host: "127.0.0.1", Port: int(peer.addr().Port())}
	s.reg.mu.Lock()
	s.reg.regs["s1"] = Registration{Seat: "s1", Contact: contact, Transport: "UDP", Expires: time.Now().Add(time.Hour)}
	s.reg.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Dial(ctx, DialOptions{Seat: "s1", Local: netip.MustParseAddrPort("127.0.0.1:40002"),
		Codecs: []string{PCMU}, CallerID: strings.Repeat("9", 1400)})
	require.Error(t, err, "the peer answers 486")
	require.False(t, errors.Is(err, context.DeadlineExceeded), "no answer from the peer: %v", err)
	require.Contains(t, err.Error(), "486", "the peer's 486 should end the dial")
}

// TestLargeRequestSwitchesToTCP: an INVITE over 1300 bytes to a seat registered over
// UDP goes over TCP, with its Via saying so, when the seat listens on TCP.
func TestLargeRequestSwitchesToTCP(t *testing.T) {
	s := startPlainServer(t)
	peer := startSeatPeer(t, true)
	dialLarge(t, s, peer)
	got := peer.nextInvite(t)
	require.Equal(t, "tcp", got.transport)
	require.Greater(t, got.size, siplib.UDPMTUSize-200)
	require.Equal(t, "TCP", got.req.Via().Transport)
}

// TestLargeRequestFallsBackToUDP: a seat that refuses TCP still gets the INVITE, over
// UDP, whatever its size (RFC 3261 §18.1.1).
func TestLargeRequestFallsBackToUDP(t *testing.T) {
	s := startPlainServer(t)
	peer := startSeatPeer(t, false)
	dialLarge(t, s, peer)
	got := peer.nextInvite(t)
	require.Equal(t, "udp", got.transport)
	require.Greater(t, got.size, siplib.UDPMTUSize-200)
	require.Equal(t, "UDP", got.req.Via().Transport)
}

// TestSmallRequestStaysOnUDP: the switch is for large requests only.
func TestSmallRequestStaysOnUDP(t *testing.T) {
	s := startPlainServer(t)
	peer := startSeatPeer(t, true)
	contact := siplib.Uri{Scheme: "sip", User: "s1", Host: "127.0.0.1", Port: int(peer.addr().Port())}
	s.reg.mu.Lock()
	s.reg.regs["s1"] = Registration{Seat: "s1", Contact: contact, Transport: "UDP", Expires: time.Now().Add(time.Hour)}
	s.reg.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Dial(ctx, DialOptions{Seat: "s1", Local: netip.MustParseAddrPort("127.0.0.1:40002"),
		Codecs: []string{PCMU}, CallerID: "1000"})
	require.Error(t, err)
	got := peer.nextInvite(t)
	require.Equal(t, "udp", got.transport)
}

// startPlainServer runs a server with no call handler work, for dialling out.
func startPlainServer(t *testing.T) *Server {
	s, err := New(Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}, func(*InboundCall) {})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}
