package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

// 300 INVITEs at once from one address: only its burst reaches the call handler, the
// rest are answered 503 with Retry-After, and a caller from another address is still
// served.
func TestInviteFloodLimitedPerSource(t *testing.T) {
	flooder := netip.MustParseAddr("198.51.100.66")
	floodConn := listenUDP(t)
	floodAddr := floodConn.LocalAddr().String()
	s := startServerWith(t, nil, func(s *Server) {
		// every test peer is 127.0.0.1: tell the flooder apart by its port
		s.source = func(req *siplib.Request) netip.Addr {
			if req.Source() == floodAddr {
				return flooder
			}
			return sourceAddr(req)
		}
	})
	flood := udpPeerOn(t, floodConn, s.Addr().String())
	codes := map[int]int{}
	// in batches, so that no socket buffer overflows and drops a datagram
	for batch := 0; batch < 300; batch += 50 {
		var ids []string
		for i := batch; i < batch+50; i++ {
			ids = append(ids, fmt.Sprintf("flood-%d", i))
			flood.send(flood.invite(ids[len(ids)-1]))
		}
		for _, res := range flood.collect(ids) {
			codes[res.StatusCode]++
			if res.StatusCode == 503 {
				secs, err := strconv.Atoi(res.GetHeader("Retry-After").Value())
				require.NoError(t, err)
				require.GreaterOrEqual(t, secs, 1)
			}
		}
	}
	require.Equal(t, map[int]int{486: 30, 503: 270}, codes, "the burst reaches the handler (which answers 486), the rest 503")
	require.Equal(t, 270.0, s.counter(t, "lianxin_sip_rate_limited_total", map[string]string{"method": "INVITE"}))

	caller := newUDPPeer(t, s.Addr().String())
	caller.send(caller.invite("real-caller"))
	require.Equal(t, 486, caller.finalFor("real-caller").StatusCode, "another address reaches the handler")

	s.clock.Advance(time.Second)
	flood.send(flood.invite("flood-later"))
	require.Equal(t, 486, flood.finalFor("flood-later").StatusCode, "the bucket refills with time")
}

// REGISTERs have their own bucket, and trusted addresses none.
func TestRegisterLimitAndTrusted(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.Security.RegisterRate = RateLimit{Rate: 1, Burst: 3}
		c.Security.InviteRate = RateLimit{Rate: 1, Burst: 1}
	})
	p := newUDPPeer(t, s.Addr().String())
	for i := 0; i < 3; i++ {
		require.Equal(t, 401, p.do(p.register("seat-01", "", 60)).StatusCode)
	}
	res := p.do(p.register("seat-01", "", 60))
	require.Equal(t, 503, res.StatusCode)
	require.Equal(t, "1", res.GetHeader("Retry-After").Value())
	require.Equal(t, 486, p.do(p.invite("c1")).StatusCode, "INVITEs are counted apart")

	trusted := startServer(t, func(c *Config) {
		c.Security.RegisterRate = RateLimit{Rate: 1, Burst: 1}
		c.Security.Trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	q := newUDPPeer(t, trusted.Addr().String())
	for i := 0; i < 20; i++ {
		require.Equal(t, 401, q.do(q.register("seat-01", "", 60)).StatusCode)
	}
}

// The limiter forgets the least recently seen addresses beyond its bound.
func TestLimiterMemoryBounded(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(RateLimit{Rate: 1, Burst: 1}, 8, clock.Now)
	for i := 0; i < 1000; i++ {
		ok, _ := l.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		require.True(t, ok)
	}
	require.Equal(t, 8, l.state.Len())
	ok, wait := l.allow(netip.AddrFrom4([4]byte{10, 0, 3, 231}))
	require.False(t, ok, "the latest address is still remembered")
	require.Equal(t, time.Second, wait)
}

// The limits count an IPv6 source by its /64, which one subscriber holds whole.
func TestLimiterCountsIPv6By64(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(RateLimit{Rate: 1, Burst: 2}, 8, clock.Now)
	for _, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		ok, _ := l.allow(netip.MustParseAddr(a))
		require.True(t, ok, a)
	}
	ok, _ := l.allow(netip.MustParseAddr("2001:db8:1:2:abcd::1"))
	require.False(t, ok, "a third address of the same /64 shares its bucket")
	ok, _ = l.allow(netip.MustParseAddr("2001:db8:1:3::1"))
	require.True(t, ok, "another /64 has its own")
	ok, _ = l.allow(netip.MustParseAddr("192.0.2.1"))
	require.True(t, ok)
}
