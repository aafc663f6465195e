package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts reports that every even port of a PortRange is in use.
var ErrNoPorts = errors.New("media: no free RTP port in range")

// PortRange is an inclusive range of UDP ports for RTP. Only even ports are used (RFC 3550
// §11: RTCP takes the odd port above, which the gateway leaves free).
type PortRange struct {
	Min, Max int
}

// String prints the range as "min-max".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Validate reports whether the range holds at least one even port in 1..65534.
func (r PortRange) Validate() error {
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max || (r.Min+1)&^1 > r.Max {
		return fmt.Errorf("media: bad RTP port range %s", r)
	}
	return nil
}

// PortAllocator hands out even UDP ports from a range, round-robin, so that a port just
// closed is not reused at once (stray packets of the old call would latch the new one).
// The operating system is the source of truth for what is in use: a port another socket
// holds fails to bind and is skipped, and closing the returned conn releases its port.
type PortAllocator struct {
	r    PortRange
	mu   sync.Mutex
	next int
}

// NewPortAllocator returns an allocator over r; an invalid range fails every Listen.
func NewPortAllocator(r PortRange) *PortAllocator {
	return &PortAllocator{r: r, next: (r.Min + 1) &^ 1}
}

// String names the allocator by its range.
func (p *PortAllocator) String() string { return "ports(" + p.r.String() + ")" }

// Listen binds a UDP socket on ip at the next free even port of the range.
func (p *PortAllocator) Listen(ip netip.Addr) (*net.UDPConn, error) {
	if err := p.r.Validate(); err != nil {
		return nil, err
	}
	first := (p.r.Min + 1) &^ 1
	count := (p.r.Max-first)/2 + 1
	var lastErr error
	for range count {
		port := p.take(first)
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w %s on %s: %w", ErrNoPorts, p.r, ip, lastErr)
}

func (p *PortAllocator) take(first int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next < first || p.next > p.r.Max {
		p.next = first
	}
	port := p.next
	p.next += 2
	return port
}
