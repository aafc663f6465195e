package media

import (
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// freeEvenRange finds a range of n even/odd pairs that were free a moment ago.
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

// pair is one ListenPair's sockets.
type pair struct{ rtp, rtcp *net.UDPConn }

func (p pair) close() {
	p.rtp.Close()
	p.rtcp.Close()
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// listenAll takes n pairs of r at once, concurrently; it reports false (closing what it
// took) when another process held a port of the range.
func listenAll(t *testing.T, r PortRange, n int) (*PortAllocator, []pair, bool) {
	t.Helper()
	p := NewPortAllocator(r)
	ip := netip.MustParseAddr("127.0.0.1")
	var mu sync.Mutex
	var pairs []pair
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rtp, rtcp, err := p.ListenPair(ip)
			if err != nil {
				return // another process took a port of the range: the count below shows it
			}
			mu.Lock()
			pairs = append(pairs, pair{rtp, rtcp})
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(pairs) == n {
		return p, pairs, true
	}
	for _, c := range pairs {
		c.close()
	}
	return nil, nil, false
}

func TestPortAllocatorPairsConcurrentAndReleased(t *testing.T) {
	// other test binaries (the gateway's calls, sipp, baresip) bind loopback ports at the
	// same time: a range one of them took a port of is tried again elsewhere
	var r PortRange
	var p *PortAllocator
	var pairs []pair
	ok := false
	for try := 0; try < 5 && !ok; try++ {
		r = freeEvenRange(t, 4)
		p, pairs, ok = listenAll(t, r, 4)
	}
	require.True(t, ok, "no free range of 4 port pairs in 5 tries")
	ip := netip.MustParseAddr("127.0.0.1")
	seen := map[int]bool{}
	for _, c := range pairs {
		require.Zero(t, port(c.rtp)%2, "RTP on an even port")
		require.Equal(t, port(c.rtp)+1, port(c.rtcp), "RTCP on the port above")
		require.True(t, port(c.rtp) >= r.Min && port(c.rtcp) <= r.Max)
		require.False(t, seen[port(c.rtp)])
		seen[port(c.rtp)] = true
	}
	_, _, err := p.ListenPair(ip)
	require.ErrorIs(t, err, ErrNoPorts, "range exhausted")

	pairs[2].close()
	rtp, rtcp, err := p.ListenPair(ip)
	require.NoError(t, err, "a closed pair is free again")
	require.Equal(t, port(pairs[2].rtp), port(rtp))
	for i, c2 := range append(pairs, pair{rtp, rtcp}) {
		if i != 2 {
			c2.close()
		}
	}
}

func TestPortAllocatorSkipsAPairWhoseRTCPPortIsTaken(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.1")
	for try := 0; try < 5; try++ {
		r := freeEvenRange(t, 2)
		held, err := listenUDP(ip, r.Min+1)
		if err != nil {
			continue
		}
		rtp, rtcp, err := NewPortAllocator(r).ListenPair(ip)
		held.Close()
		if err != nil {
			continue // another process took the other pair: try elsewhere
		}
		rtp.Close()
		rtcp.Close()
		require.Equal(t, r.Min+2, port(rtp), "the first pair's odd port is taken")
		require.Equal(t, r.Min+3, port(rtcp))
		return
	}
	t.Fatal("no free range of 2 pairs in 5 tries")
}

func TestPortRangeValidate(t *testing.T) {
	require.NoError(t, PortRange{Min: 10000, Max: 20000}.Validate())
	require.NoError(t, PortRange{Min: 10001, Max: 10003}.Validate())
	for _, bad := range []PortRange{{0, 10}, {20, 10}, {11, 11}, {10001, 10002}, {65534, 70000}} {
		require.Error(t, bad.Validate(), bad.String())
		_, _, err := NewPortAllocator(bad).ListenPair(netip.MustParseAddr("127.0.0.1"))
		require.Error(t, err)
	}
}
