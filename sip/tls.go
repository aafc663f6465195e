package sip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	siplib "github.com/emiago/sipgo/sip"
)

// ErrTLSRequired is returned by Dial for a seat whose policy requires TLS and whose phone
// is not registered over it.
var ErrTLSRequired = errors.New("sip: TLS required")

// checkTLSConfig checks Config.TLSListen before anything binds.
func checkTLSConfig(cfg Config) error {
	if cfg.TLSListen == "" {
		return nil
	}
	if cfg.TLSCertificate == nil {
		return errors.New("sip: tls listen address without a certificate")
	}
	_, err := listenAddrs(cfg.TLSListen)
	return err
}

// bindTLS binds the TCP listeners of Config.TLSListen (an extra address with port 0 takes
// the first one's port, as with Listen).
func (s *Server) bindTLS() error {
	if s.cfg.TLSListen == "" {
		return nil
	}
	addrs, _ := listenAddrs(s.cfg.TLSListen) // checked by New
	var port uint16
	for _, a := range addrs {
		host, p, _ := net.SplitHostPort(a)
		if p == "0" && port != 0 {
			a = net.JoinHostPort(host, strconv.Itoa(int(port)))
		}
		l, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", a, err)
		}
		ap := l.Addr().(*net.TCPAddr).AddrPort()
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if port == 0 {
			port, s.tlsAddr = ap.Port(), ap
		}
		s.tlsLns = append(s.tlsLns, l)
	}
	return nil
}

// serveTLS serves SIP over TLS on the bound listeners, each behind the same guard as TCP
// (idle timeout, per-source and total caps: the handshake itself is bounded by the idle
// timeout), and makes the dialog side whose Contact asks for TLS.
func (s *Server) serveTLS(client *sipgo.Client) {
	if len(s.tlsLns) == 0 {
		return
	}
	host, _, _ := net.SplitHostPort(strings.TrimSpace(strings.Split(s.cfg.TLSListen, ",")[0]))
	contact := siplib.ContactHeader{Address: siplib.Uri{Scheme: "sip", User: "lianxin", Host: host,
		Port: int(s.tlsAddr.Port()), UriParams: siplib.NewParams()}}
	contact.Address.UriParams.Add("transport", "tls")
	// Requests in a TLS dialog go back over the connection the peer opened, whatever
	// its Contact says: a phone seldom accepts TLS connections of its own.
	s.dlgTLS = &sipgo.DialogUA{Client: client, ContactHDR: contact, RewriteContact: true}
	conf := &tls.Config{Certificates: []tls.Certificate{*s.cfg.TLSCertificate}, MinVersion: tls.VersionTLS12}
	for _, l := range s.tlsLns {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			_ = s.srv.ServeTLS(tls.NewListener(newTCPGuard(l, s.sec, s.reg.usesConn, s.cfg.Metrics), conf))
		}()
	}
}

// TLSAddr is the bound SIP-over-TLS address, the first of Config.TLSListen (invalid
// without one).
func (s *Server) TLSAddr() netip.AddrPort { return s.tlsAddr }

// uaFor is the dialog side for a caller's INVITE: TLS for one that came over TLS.
func (s *Server) uaFor(req *siplib.Request) *sipgo.DialogUA {
	if overTLS(req) && s.dlgTLS != nil {
		return s.dlgTLS
	}
	return s.dlgCaller
}

// seatUA is the dialog side to call a seat's phone with: TLS when it registered over
// TLS, and an error when its policy requires TLS and it did not (a registration kept
// from before the policy changed).
func (s *Server) seatUA(reg Registration, pol Policy) (*sipgo.DialogUA, error) {
	overTLS := strings.EqualFold(reg.Transport, "TLS")
	switch {
	case overTLS && s.dlgTLS == nil:
		return nil, fmt.Errorf("%w: %s registered over TLS, which is no longer served", ErrTLSRequired, reg.Seat)
	case overTLS:
		return s.dlgTLS, nil
	case pol.TLS == TLSRequired:
		return nil, fmt.Errorf("%w: %s requires TLS and is registered over %s", ErrTLSRequired, reg.Seat, reg.Transport)
	}
	return s.dlgUA, nil
}

// hasConn reports whether the transport holds a connection to addr.
func (s *Server) hasConn(network, addr string) bool {
	c, err := s.ua.TransportLayer().GetConnection(network, addr)
	if err != nil {
		return false
	}
	c.Ref(-1) // GetConnection took a reference for us
	return true
}

func (s *Server) closeTLS() {
	for _, l := range s.tlsLns {
		l.Close()
	}
}
