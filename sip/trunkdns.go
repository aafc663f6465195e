package sip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// defaultSIPPort is where a registrar named without a port and without SRV records
// listens (RFC 3261 §19.1.2).
const defaultSIPPort = 5060

// RegistrarTarget is one address a trunk's REGISTERs may go to.
type RegistrarTarget struct {
	// Host is the name the address was found for with the port: the SRV record's target,
	// or the configured registrar (then the address itself when that was numeric).
	Host string
	// Addr is where the REGISTER is sent.
	Addr netip.AddrPort
}

// IsZero reports whether no target was chosen yet.
func (t RegistrarTarget) IsZero() bool { return !t.Addr.IsValid() }

// String is "host:port (address)", or the address alone where the host was one.
func (t RegistrarTarget) String() string {
	if t.IsZero() {
		return ""
	}
	if t.Host == "" || t.Host == t.Addr.String() {
		return t.Addr.String()
	}
	return t.Host + " (" + t.Addr.String() + ")"
}

// resolveRegistrar lists the addresses a REGISTER for the registrar host (port 0: none
// given) may go to, in the order to try them, as RFC 3263 §4.2 finds a server: a
// numeric host is used as it is; a name with a port by its A/AAAA records; a name without
// one by its SRV records for the transport (_sip._udp, _sip._tcp), each target by its
// A/AAAA records, and by the name's own A/AAAA records at port 5060 when it has no SRV
// record. NAPTR (§4.1) is not looked up: the transport is the one configured, which is
// what §4.1 leaves a client that was told one. network narrows the addresses to a family
// ("ip4", "ip6" or "ip" for either).
//
// sipgo's transport layer resolves names too, but tries A/AAAA before SRV and keeps only
// the first SRV record's first address, so a REGISTER could not go on to the next
// registrar; the REGISTER is therefore sent to an address found here.
func resolveRegistrar(ctx context.Context, r *net.Resolver, host string, port int, transport, network string) ([]RegistrarTarget, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []RegistrarTarget{{Addr: netip.AddrPortFrom(ip, uint16(cmp.Or(port, defaultSIPPort)))}}, nil
	}
	if port != 0 {
		return lookupTarget(ctx, r, host, port, network)
	}
	proto := strings.ToLower(transport)
	// net.Resolver sorts the records by priority and shuffles each priority's by weight
	// as RFC 2782 asks; it keeps the records' TTL to itself, so the set is looked up
	// afresh at each attempt.
	_, srvs, err := r.LookupSRV(ctx, "sip", proto, host)
	if len(srvs) == 0 {
		if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
			return lookupTarget(ctx, r, host, defaultSIPPort, network)
		}
		if err == nil {
			err = errors.New("no record")
		}
		return nil, fmt.Errorf("SRV _sip._%s.%s: %w", proto, host, err)
	}
	if len(srvs) == 1 && srvs[0].Target == "." {
		// RFC 2782: the domain says it offers no such service
		return nil, fmt.Errorf("SRV _sip._%s.%s: the domain offers no SIP over %s", proto, host, transport)
	}
	var out []RegistrarTarget
	var errs []error
	for _, srv := range srvs {
		ts, err := lookupTarget(ctx, r, strings.TrimSuffix(srv.Target, "."), int(srv.Port), network)
		out = append(out, ts...)
		errs = append(errs, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("SRV _sip._%s.%s: no target has an address: %w", proto, host, errors.Join(errs...))
	}
	return out, nil
}

// lookupTarget is host's addresses of network's family, each at port.
func lookupTarget(ctx context.Context, r *net.Resolver, host string, port int, network string) ([]RegistrarTarget, error) {
	ips, err := r.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	name := net.JoinHostPort(host, strconv.Itoa(port))
	out := make([]RegistrarTarget, 0, len(ips))
	for _, ip := range ips {
		out = append(out, RegistrarTarget{Host: name, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))})
	}
	return out, nil
}
