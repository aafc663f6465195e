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

func TestPortAllocatorEvenPortsConcurrentAndReleased(t *testing.T) {
	r := freeEvenRange(t, 4)
	p := NewPortAllocator(r)
	ip := netip.MustParseAddr("127.0.0.1")
	var mu sync.Mutex
	var conns []*net.UDPConn
	var wg sync.WaitGroup
	for range 4 {
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
	require.Len(t, conns, 4)
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
