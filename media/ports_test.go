package media

import (
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// freeEvenRange finds a small range of ports that were free a moment ago.
func freeEvenRange(t *testing.T, n int) PortRange {
	t.Helper()
	c := listenLoopback(t)
	port := c.LocalAddr().(*net.UDPAddr).Port
	require.NoError(t, c.Close())
	lo := (port + 1) &^ 1
	if lo+2*n > 65535 {
		lo -= 4 * n
	}
	return PortRange{Min: lo, Max: lo + 2*n - 1}
}

// listenAll takes n ports of r at once, concurrently; it reports false (closing what it
// took) when another process held a port of the range.
func listenAll(t *testing.T, r PortRange, n int) (*PortAllocator, []*net.UDPConn, bool) {
	t.Helper()
	p := NewPortAllocator(r)
	ip := netip.MustParseAddr("127.0.0.1")
	var mu sync.Mutex
	var conns []*net.UDPConn
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, err := p.Listen(ip)
			if err != nil {
				return // another process took a port of the range: the count below shows it
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(conns) == n {
		return p, conns, true
	}
	for _, c := range conns {
		c.Close()
	}
	return nil, nil, false
}

func TestPortAllocatorEvenPortsConcurrentAndReleased(t *testing.T) {
	// other test binaries (the gateway's calls, sipp, baresip) bind loopback ports at the
	// same time: a range one of them took a port of is tried again elsewhere
	var r PortRange
	var p *PortAllocator
	var conns []*net.UDPConn
	ok := false
	for try := 0; try < 5 && !ok; try++ {
		r = freeEvenRange(t, 4)
		p, conns, ok = listenAll(t, r, 4)
	}
	require.True(t, ok, "no free range of 4 even ports in 5 tries")
	ip := netip.MustParseAddr("127.0.0.1")
	seen := map[int]bool{}
	for _, c := range conns {
		port := c.LocalAddr().(*net.UDPAddr).Port
		require.Zero(t, port%2, "even port")
		require.True(t, port >= r.Min && port <= r.Max)
		require.False(t, seen[port])
		seen[port] = true
	}
	_, err := p.Listen(ip)
	require.ErrorIs(t, err, ErrNoPorts, "range exhausted")

	require.NoError(t, conns[2].Close())
	c, err := p.Listen(ip)
	require.NoError(t, err, "a closed conn's port is free again")
	require.Equal(t, conns[2].LocalAddr().(*net.UDPAddr).Port, c.LocalAddr().(*net.UDPAddr).Port)
	for i, c2 := range append(conns, c) {
		if i != 2 {
			require.NoError(t, c2.Close())
		}
	}
}

func TestPortRangeValidate(t *testing.T) {
	require.NoError(t, PortRange{Min: 10000, Max: 20000}.Validate())
	require.NoError(t, PortRange{Min: 10001, Max: 10002}.Validate())
	for _, bad := range []PortRange{{0, 10}, {20, 10}, {11, 11}, {65534, 70000}} {
		require.Error(t, bad.Validate(), bad.String())
		_, err := NewPortAllocator(bad).Listen(netip.MustParseAddr("127.0.0.1"))
		require.Error(t, err)
	}
}
