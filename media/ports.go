package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts reports that every even/odd pair of a PortRange is in use.
var ErrNoPorts = errors.New("media: no free RTP port in range")

// PortRange is an inclusive range of UDP ports for RTP and RTCP: RTP takes an even port and
// RTCP the odd port above it (RFC 3550 §11), so a session description needs no a=rtcp.
type PortRange struct {
	Min, Max int
}

// String prints the range as "min-max".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Validate reports whether the range holds at least one even/odd pair in 2..65535.
func (r PortRange) Validate() error {
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max || (r.Min+1)&^1+1 > r.Max {
		return fmt.Errorf("media: bad RTP port range %s", r)
	}
	return nil
}

// PortAllocator hands out pairs of UDP ports from a range, an even one for RTP and the odd
// one above for RTCP, round-robin, so that a pair just closed is not reused at once (stray
// packets of the old call would latch the new one). The operating system is the source of
// truth for what is in use: a pair of which another socket holds either port is skipped,
// and closing the returned conns releases the pair.
type PortAllocator struct {
	r    PortRange
	mu   sync.Mutex
	next int
}

// NewPortAllocator returns an allocator over r; an invalid range fails every ListenPair.
func NewPortAllocator(r PortRange) *PortAllocator {
	return &PortAllocator{r: r, next: (r.Min + 1) &^ 1}
}

// String names the allocator by its range.
func (p *PortAllocator) String() string { return "ports(" + p.r.String() + ")" }

// ListenPair binds two UDP sockets on ip at the next free pair of the range: rtp on the
// even port, rtcp on the port above it.
func (p *PortAllocator) ListenPair(ip netip.Addr) (rtp, rtcp *net.UDPConn, err error) {
	if err := p.r.Validate(); err != nil {
		return nil, nil, err
	}
	first := (p.r.Min + 1) &^ 1
	count := (p.r.Max-1-first)/2 + 1
	var lastErr error
	for range count {
		port := p.take(first)
		rtp, err := listenUDP(ip, port)
		if err != nil {
			lastErr = err
			continue
		}
		rtcp, err := listenUDP(ip, port+1)
		if err != nil {
			rtp.Close()
			lastErr = err
			continue
		}
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w %s on %s: %w", ErrNoPorts, p.r, ip, lastErr)
}

func listenUDP(ip netip.Addr, port int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
}

func (p *PortAllocator) take(first int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next < first || p.next+1 > p.r.Max {
		p.next = first
	}
	port := p.next
	p.next += 2
	return port
}
