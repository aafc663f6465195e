package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// listener is one address the server serves, over UDP and TCP on the same port.
type listener struct {
	udp net.PacketConn
	tcp net.Listener
}

func (l listener) close() {
	l.udp.Close()
	l.tcp.Close()
}

// listenAddrs splits Config.Listen into its addresses: the first is the server's own
// (its Contact and Via, Addr), the others are listened on as well, e.g.
// "127.0.0.1:5060,[::1]:5060" answers IPv6 phones too (RFC 5118).
func listenAddrs(listen string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(listen, ",") {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("sip: listen address %q: %w", a, err)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// bind binds UDP and then TCP on the port UDP got. An address with port 0 takes port
// when that is not 0, so that every address of one server shares a port.
func bind(addr string, port uint16) (listener, netip.AddrPort, error) {
	host, p, _ := net.SplitHostPort(addr)
	if p == "0" && port != 0 {
		addr = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	anyPort := p == "0" && port == 0
	for try := 0; ; try++ {
		ln, ap, err := bindOnce(addr, host)
		// A port the system chose free for UDP may be in use for TCP (another process's
		// connection): choose again rather than fail a server asked for any port.
		if err == nil || !anyPort || try == 20 || !errors.Is(err, syscall.EADDRINUSE) {
			return ln, ap, err
		}
	}
}

func bindOnce(addr, host string) (listener, netip.AddrPort, error) {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return listener{}, netip.AddrPort{}, fmt.Errorf("sip: listen udp %s: %w", addr, err)
	}
	ap := udp.LocalAddr().(*net.UDPAddr).AddrPort()
	tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(int(ap.Port()))))
	if err != nil {
		udp.Close()
		return listener{}, netip.AddrPort{}, fmt.Errorf("sip: listen tcp %s: %w", addr, err)
	}
	return listener{udp: udp, tcp: tcp}, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
