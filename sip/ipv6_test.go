package sip

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const ipv6Dir = "../testdata/rfc5118"

// TestRFC5118 sends the IPv6 messages of testdata/rfc5118 to a server that listens on
// 127.0.0.1 and, asked to, on [::1]: each over UDP and TCP to [::1], asserting
// RULES.tsv. The IPv4 address must keep answering.
func TestRFC5118(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(ipv6Dir, "RULES.tsv"))
	require.NoError(t, err)
	var rules []tortureRule
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Split(l, "\t"); len(f) == 3 && !strings.HasPrefix(l, "#") {
			rules = append(rules, tortureRule{f[0], f[1], f[2]})
		}
	}
	require.Len(t, rules, 11)
	read := func(t *testing.T, name string) []byte {
		msg, err := os.ReadFile(filepath.Join(ipv6Dir, name+".dat"))
		require.NoError(t, err)
		return msg
	}

	s := startIPv6Server(t)
	v6 := s.Addrs()[1]
	require.Equal(t, netip.IPv6Loopback(), v6.Addr())
	require.Equal(t, s.Addr().Port(), v6.Port(), "every address shares the port")
	t.Run("udp", func(t *testing.T) {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		require.NoError(t, err)
		defer c.Close()
		next := func(deadline time.Time) ([]byte, error) {
			buf := make([]byte, 65535)
			_ = c.SetReadDeadline(deadline)
			n, err := c.Read(buf)
			return buf[:n], err
		}
		for _, r := range rules {
			t.Run(r.name, func(t *testing.T) {
				msg := read(t, r.name)
				_, err := c.WriteToUDP(msg, net.UDPAddrFromAddrPort(v6))
				require.NoError(t, err)
				got := collect(msg, next, 300*time.Millisecond)
				require.True(t, satisfies(r.rule, got.codes()), "%s (%s): want %s, got %q", r.name, r.meaning, r.rule, got)
			})
		}
	})
	s = startIPv6Server(t)
	v6 = s.Addrs()[1]
	t.Run("tcp", func(t *testing.T) {
		for _, r := range rules {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				msg := read(t, r.name)
				got := tcpExchangeTo(t, v6, msg)
				require.True(t, satisfies(r.rule, got.codes()), "%s (%s): want %s, got %q", r.name, r.meaning, r.rule, got)
			})
		}
	})
	t.Run("ipv4 still answers", func(t *testing.T) {
		stillServes(t, func(msg []byte) replies { return tcpExchangeTo(t, s.Addr(), msg) })
	})
}

// startIPv6Server runs the torture server on 127.0.0.1 and [::1], the port picked once.
func startIPv6Server(t *testing.T) *Server {
	return startTortureServerAt(t, "127.0.0.1:0,[::1]:0")
}
