package sip

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"
)

// dialTCP opens a TCP connection to the server.
func dialTCP(t *testing.T, s *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer waits (up to a generous bound) for the server to close c.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(15*time.Second)))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset by peer") }

// Idle TCP connections are closed, so a peer cannot hold hundreds open for nothing.
func TestTCPIdleConnectionsClosed(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Security.TCPIdleTimeout = 200 * time.Millisecond })
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		conns = append(conns, dialTCP(t, s))
	}
	for i, c := range conns {
		require.True(t, closedByServer(t, c), "idle connection %d still open", i)
	}
	require.Equal(t, 20.0, s.counter(t, "lianxin_sip_tcp_closed_total", map[string]string{"reason": "idle"}))
}

// One address cannot hold more than its share of connections.
func TestTCPConnectionsPerSourceBounded(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Security.TCPMaxConnsPerSource = 5 })
	var conns []net.Conn
	for i := 0; i < 5; i++ {
		c := dialTCP(t, s)
		// a message on each proves the server took it before the next is dialled
		p := &tcpPeer{t: t, c: c}
		require.Equal(t, 200, p.options(fmt.Sprintf("o-%d", i)))
		conns = append(conns, c)
	}
	sixth := dialTCP(t, s)
	require.True(t, closedByServer(t, sixth), "the sixth connection is refused")
	require.Equal(t, 1.0, s.counter(t, "lianxin_sip_tcp_closed_total", map[string]string{"reason": "limit"}))
	conns[0].Close()
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			return false
		}
		defer c.Close()
		p := &tcpPeer{t: t, c: c}
		return p.tryOptions("again") == 200
	}, 10*time.Second, 20*time.Millisecond, "a closed connection gives its place back")
}

// A seat phone registered over TCP is reached over its connection, so that one is kept
// however quiet it is.
func TestTCPRegisteredConnectionKept(t *testing.T) {
	s := startServer(t, func(c *Config) { c.Security.TCPIdleTimeout = 100 * time.Millisecond })
	c := dialTCP(t, s)
	p := &tcpPeer{t: t, c: c}
	require.Equal(t, 200, p.registerWithAuth("seat-07"))
	// several idle timeouts pass with nothing on the connection
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, 200, p.options("still-here"), "the registered seat's connection is still open")
	idle := dialTCP(t, s)
	require.True(t, closedByServer(t, idle), "an unregistered one is not kept")
}

// tcpPeer is a hand-driven SIP client on a TCP (or TLS) connection.
type tcpPeer struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
	n  int
	// transport is what its Via and Contact say: "tcp" when empty, or "tls".
	transport string
	// contact is the address its Contact names (its own end of the connection when empty).
	contact string
}

func (p *tcpPeer) tp() string {
	if p.transport == "" {
		return "tcp"
	}
	return p.transport
}

// read reads one response and returns its status, headers (lower-case names) and error.
func (p *tcpPeer) read() (int, map[string]string, error) {
	if p.rd == nil {
		p.rd = bufio.NewReader(p.c)
	}
	if err := p.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, nil, err
	}
	tp := textproto.NewReader(p.rd)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, err
	}
	var code int
	if _, err := fmt.Sscanf(line, "SIP/2.0 %d", &code); err != nil {
		return 0, nil, fmt.Errorf("status line %q: %w", line, err)
	}
	h := map[string]string{}
	for {
		l, err := tp.ReadLine()
		if err != nil {
			return 0, nil, err
		}
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		h[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	n, _ := strconv.Atoi(h["content-length"])
	if _, err := io.CopyN(io.Discard, p.rd, int64(n)); err != nil {
		return 0, nil, err
	}
	return code, h, nil
}

func (p *tcpPeer) request(method, user, extra string) string {
	p.n++
	la := p.c.LocalAddr().String()
	return fmt.Sprintf("%s sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-tcp-%d-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=t%d\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: tcp-%s-%s\r\nCSeq: %d %s\r\n%sContent-Length: 0\r\n\r\n",
		method, p.c.RemoteAddr(), strings.ToUpper(p.tp()), la, time.Now().UnixNano(), p.n, user, p.n, user, user, la, p.n, method, extra)
}

// tryOptions sends an OPTIONS and returns the status, 0 if there was none.
func (p *tcpPeer) tryOptions(tag string) int {
	if _, err := io.WriteString(p.c, p.request("OPTIONS", "probe-"+tag, "")); err != nil {
		return 0
	}
	code, _, err := p.read()
	if err != nil {
		return 0
	}
	return code
}

func (p *tcpPeer) options(tag string) int {
	p.t.Helper()
	code := p.tryOptions(tag)
	require.NotZero(p.t, code, "no answer to OPTIONS")
	return code
}

// registerWithAuth registers seat over the connection, answering the challenge.
func (p *tcpPeer) registerWithAuth(seat string) int {
	p.t.Helper()
	addr := p.contact
	if addr == "" {
		addr = p.c.LocalAddr().String()
	}
	contact := fmt.Sprintf("Contact: <sip:%s@%s;transport=%s>\r\nExpires: 60\r\n", seat, addr, p.tp())
	_, err := io.WriteString(p.c, p.request("REGISTER", seat, contact))
	require.NoError(p.t, err)
	code, h, err := p.read()
	require.NoError(p.t, err)
	require.Equal(p.t, 401, code)
	chal, err := digest.ParseChallenge(h["www-authenticate"])
	require.NoError(p.t, err)
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + p.c.RemoteAddr().String(),
		Username: seat, Password: testPassword, Count: 1})
	require.NoError(p.t, err)
	_, err = io.WriteString(p.c, p.request("REGISTER", seat, contact+"Authorization: "+cred.String()+"\r\n"))
	require.NoError(p.t, err)
	code, _, err = p.read()
	require.NoError(p.t, err)
	return code
}
