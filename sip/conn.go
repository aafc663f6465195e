package sip

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tcpGuard wraps the SIP TCP listener: it refuses connections over the per-source limit
// and closes connections that stay idle, which sipgo does neither of.
type tcpGuard struct {
	net.Listener
	idle      time.Duration
	perSource int
	total     int
	sec       Security
	// inUse reports whether a live registration depends on the connection from raddr.
	inUse   func(raddr string) bool
	metrics *Metrics

	mu    sync.Mutex
	conns map[netip.Addr]int
	open  int
}

func newTCPGuard(l net.Listener, sec Security, inUse func(string) bool, m *Metrics) *tcpGuard {
	return &tcpGuard{Listener: l, idle: sec.TCPIdleTimeout, perSource: sec.TCPMaxConnsPerSource, total: sec.TCPMaxConns, sec: sec, inUse: inUse,
		metrics: m, conns: map[netip.Addr]int{}}
}

// Accept returns the next connection within its source's limit and the total; those
// over them are closed at once.
func (g *tcpGuard) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var addr netip.Addr
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			addr = ap.Addr().Unmap()
		}
		src := sourceKey(addr)
		g.mu.Lock()
		ok := (g.conns[src] < g.perSource || g.sec.trusted(addr)) && g.open < g.total
		if ok {
			g.conns[src]++
			g.open++
		}
		g.mu.Unlock()
		if !ok {
			g.metrics.tcpClosed("limit")
			c.Close()
			continue
		}
		return &idleConn{Conn: c, g: g, src: src}, nil
	}
}

func (g *tcpGuard) release(src netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open--
	if g.conns[src]--; g.conns[src] <= 0 {
		delete(g.conns, src)
	}
}

// idleConn closes itself when a read waits longer than the idle timeout.
type idleConn struct {
	net.Conn
	g    *tcpGuard
	src  netip.Addr
	once sync.Once
	// deadline is the read deadline the reader set itself (UnixNano, 0: none): sipgo
	// sets one while part of a message waits, and that one must fire as its own.
	deadline atomic.Int64
}

// SetReadDeadline records the reader's own deadline; Read applies it.
func (c *idleConn) SetReadDeadline(t time.Time) error {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	c.deadline.Store(n)
	return nil
}

// SetDeadline is SetReadDeadline and SetWriteDeadline.
func (c *idleConn) SetDeadline(t time.Time) error {
	_ = c.SetReadDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

// Read reads with the idle deadline, or the reader's own if that is sooner. At the idle
// deadline the connection is closed and the reader told io.EOF, an ordinary end that
// sipgo does not log as an error, unless a registration still uses it; the reader's own
// deadline gives the reader its timeout error as usual.
func (c *idleConn) Read(b []byte) (int, error) {
	for {
		d, own := time.Now().Add(c.g.idle), false
		if n := c.deadline.Load(); n != 0 && time.Unix(0, n).Before(d) {
			d, own = time.Unix(0, n), true
		}
		if err := c.Conn.SetReadDeadline(d); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(b)
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || own {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
		if c.g.inUse != nil && c.g.inUse(c.RemoteAddr().String()) {
			continue
		}
		c.g.metrics.tcpClosed("idle")
		c.Close()
		return 0, io.EOF
	}
}

// tcpWriteTimeout bounds a write to a peer that stopped reading, which would otherwise
// hold the goroutine answering it for good.
const tcpWriteTimeout = 10 * time.Second

// Write writes with a deadline.
func (c *idleConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Close closes the connection and gives its place back, once.
func (c *idleConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.g.release(c.src) })
	return err
}

// usesConn reports whether a live registration was made over the TCP (or TLS) connection from
// raddr: that connection is how the seat's phone is reached, so it is not idle.
func (r *registrar) usesConn(raddr string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, reg := range r.regs {
		reliable := strings.EqualFold(reg.Transport, "tcp") || strings.EqualFold(reg.Transport, "tls")
		if reg.Source == raddr && reliable && reg.Expires.After(now) {
			return true
		}
	}
	return false
}
