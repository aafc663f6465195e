package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

// testDNS is an authoritative DNS server on loopback for names under .test: it answers
// from records the test may change and notes the questions it was asked.
type testDNS struct {
	addr string

	mu      sync.Mutex
	records []dns.RR
	asked   []string
}

// startDNS serves records (zone-file lines) on a free UDP port of 127.0.0.1.
func startDNS(t *testing.T, records ...string) *testDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	d := &testDNS{addr: pc.LocalAddr().String()}
	d.set(t, records...)
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

// set replaces the records served.
func (d *testDNS) set(t *testing.T, records ...string) {
	t.Helper()
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		require.NoError(t, err, r)
		rrs = append(rrs, rr)
	}
	d.mu.Lock()
	d.records = rrs
	d.mu.Unlock()
}

// questions are the questions asked so far, as "TYPE name".
func (d *testDNS) questions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.asked)
}

// ServeDNS answers with the records of the name and type asked: none for a name that has
// records of other types only, NXDOMAIN for a name it has no record of.
func (d *testDNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	d.mu.Lock()
	known := false
	for _, qu := range q.Question {
		d.asked = append(d.asked, dns.TypeToString[qu.Qtype]+" "+qu.Name)
		for _, rr := range d.records {
			h := rr.Header()
			if !strings.EqualFold(h.Name, qu.Name) {
				continue
			}
			known = true
			if h.Rrtype == qu.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	d.mu.Unlock()
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// resolver asks this server only.
func (d *testDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.addr)
	}}
}

func targets(ts []RegistrarTarget) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

// A registrar is found as RFC 3263 §4.2 says: a numeric host as it is, a name with a port
// by its addresses, a domain by its SRV records for the transport in priority order,
// else by its own addresses at 5060.
func TestResolveRegistrar(t *testing.T) {
	d := startDNS(t,
		"_sip._udp.carrier.test. 60 IN SRV 20 10 5080 b.carrier.test.",
		"_sip._udp.carrier.test. 60 IN SRV 10 10 5070 a.carrier.test.",
		"_sip._tcp.carrier.test. 60 IN SRV 10 10 5090 c.carrier.test.",
		"carrier.test. 60 IN A 127.0.0.4",
		"a.carrier.test. 60 IN A 127.0.0.1",
		"a.carrier.test. 60 IN AAAA ::1",
		"b.carrier.test. 60 IN A 127.0.0.2",
		"c.carrier.test. 60 IN A 127.0.0.3",
		"plain.test. 60 IN A 127.0.0.5",
		"_sip._udp.closed.test. 60 IN SRV 0 0 0 .",
		"_sip._udp.lost.test. 60 IN SRV 10 0 5060 gone.lost.test.",
	)
	r, ctx := d.resolver(), context.Background()
	resolve := func(host string, port int, transport, network string) []string {
		t.Helper()
		ts, err := resolveRegistrar(ctx, r, host, port, transport, network)
		require.NoError(t, err, host)
		return targets(ts)
	}

	require.Equal(t, []string{"a.carrier.test:5070 (127.0.0.1:5070)", "b.carrier.test:5080 (127.0.0.2:5080)"},
		resolve("carrier.test", 0, "UDP", "ip4"), "the lower priority first")
	all := resolve("carrier.test", 0, "UDP", "ip")
	require.Len(t, all, 3)
	require.ElementsMatch(t, []string{"a.carrier.test:5070 (127.0.0.1:5070)", "a.carrier.test:5070 ([::1]:5070)"}, all[:2],
		"each address of the first target before the next target")
	require.Equal(t, []string{"c.carrier.test:5090 (127.0.0.3:5090)"}, resolve("carrier.test", 0, "TCP", "ip"), "_sip._tcp for TCP")
	require.Equal(t, []string{"plain.test:5060 (127.0.0.5:5060)"}, resolve("plain.test", 0, "UDP", "ip4"), "no SRV: A at 5060")
	require.Contains(t, d.questions(), "SRV _sip._udp.plain.test.", "SRV was looked for first")

	before := len(d.questions())
	require.Equal(t, []string{"carrier.test:5999 (127.0.0.4:5999)"}, resolve("carrier.test", 5999, "UDP", "ip4"))
	require.Equal(t, []string{"127.0.0.9:5060"}, resolve("127.0.0.9", 0, "UDP", "ip4"))
	require.Equal(t, []string{"[::1]:5070"}, resolve("::1", 5070, "UDP", "ip"))
	for _, q := range d.questions()[before:] {
		require.False(t, strings.HasPrefix(q, "SRV"), "an explicit port or an address skips SRV: %s", q)
	}

	_, err := resolveRegistrar(ctx, r, "closed.test", 0, "UDP", "ip")
	require.ErrorContains(t, err, "offers no SIP over UDP")
	_, err = resolveRegistrar(ctx, r, "lost.test", 0, "UDP", "ip")
	require.ErrorContains(t, err, "no target has an address")
	_, err = resolveRegistrar(ctx, r, "nowhere.test", 0, "UDP", "ip")
	require.ErrorContains(t, err, "no such host")
}

// srvTrunk is carrierTrunk registering at domain through d, each REGISTER given up after
// two seconds.
func srvTrunk(d *testDNS, registrar string) func(*Config) {
	return func(c *Config) {
		c.Resolver = d.resolver()
		c.Inbound = carrierTrunk(registrar, func(r *TrunkRegistration) { r.Timeout = 2 * time.Second })
	}
}

func registered(t *testing.T, s *testServer) TrunkState {
	t.Helper()
	if !assert.Eventually(t, func() bool { return s.TrunkStates()[0].State == RegRegistered }, 30*time.Second, 10*time.Millisecond) {
		require.FailNow(t, "never registered", "%+v", s.TrunkStates()[0])
	}
	return s.TrunkStates()[0]
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	require.NoError(t, err)
	return int(ap.Port())
}

// The carrier's domain names two registrars by SRV; the first choice is down, so the
// REGISTER lands on the second within the same attempt, which the trunk's state and
// metrics name; the removal goes there too.
func TestTrunkRegistrarFoundBySRVFailsOverWhenDown(t *testing.T) {
	backup := startRegistrar(t, 0, 60)
	down, up := testpeer.FreeUDPPorts(t, 2), portOf(t, backup.addr)
	d := startDNS(t,
		fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 10 50 %d primary.carrier.test.", down),
		fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 20 50 %d backup.carrier.test.", up),
		"primary.carrier.test. 60 IN A 127.0.0.1",
		"backup.carrier.test. 60 IN A 127.0.0.1")
	s := startServer(t, srvTrunk(d, "carrier.test"))
	st := registered(t, s)
	want := fmt.Sprintf("backup.carrier.test:%d (127.0.0.1:%d)", up, up)
	require.Equal(t, want, st.Target.String())
	require.Zero(t, st.FailuresTotal, "the backup took the attempt the primary did not answer")
	require.Contains(t, s.log.String(), fmt.Sprintf("primary.carrier.test:%d", down), "the primary was tried first")
	require.Equal(t, 1.0, s.counter(t, "lianxin_trunk_registration_target", map[string]string{"trunk": "carrier",
		"target": fmt.Sprintf("backup.carrier.test:%d", up), "address": backup.addr}))
	require.NoError(t, s.Close())
	backup.wait(t) // the removal went to the registrar that held the registration
}

// A first choice that answers 503 sends the REGISTER on to the next registrar.
func TestTrunkRegistrarFailsOverOn503(t *testing.T) {
	busy, backup := startRegistrar(t, 1000, 60), startRegistrar(t, 0, 60)
	d := startDNS(t,
		fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 10 50 %d busy.carrier.test.", portOf(t, busy.addr)),
		fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 20 50 %d backup.carrier.test.", portOf(t, backup.addr)),
		"busy.carrier.test. 60 IN A 127.0.0.1",
		"backup.carrier.test. 60 IN A 127.0.0.1")
	s := startServer(t, srvTrunk(d, "carrier.test"))
	st := registered(t, s)
	require.Equal(t, backup.addr, st.Target.Addr.String())
	require.Zero(t, st.FailuresTotal)
	require.Contains(t, s.log.String(), "503 Service Unavailable")
	require.NoError(t, s.Close())
	backup.wait(t)
}

// freeLoopback5060 is a loopback address whose UDP port 5060 is free, for a registrar
// that must be found at SIP's default port.
func freeLoopback5060(t *testing.T) string {
	t.Helper()
	for n := 2; n < 255; n++ {
		ip := fmt.Sprintf("127.0.0.%d", n)
		if c, err := net.ListenPacket("udp", ip+":5060"); err == nil {
			c.Close()
			return ip
		}
	}
	t.Fatal("no loopback address has UDP port 5060 free")
	return ""
}

// A domain without SRV records is registered at by its A record, at port 5060.
func TestTrunkRegistrarWithoutSRVFallsBackToA(t *testing.T) {
	ip := freeLoopback5060(t)
	reg := startRegistrarAt(t, ip, 5060, 0, 60)
	d := startDNS(t, "plain.carrier.test. 60 IN A "+ip)
	s := startServer(t, srvTrunk(d, "plain.carrier.test"))
	st := registered(t, s)
	require.Equal(t, "plain.carrier.test:5060 ("+ip+":5060)", st.Target.String())
	require.Contains(t, d.questions(), "SRV _sip._udp.plain.carrier.test.")
	require.NoError(t, s.Close())
	reg.wait(t)
}

// A registrar named with its port is found by its A record even where its domain has SRV
// records (here pointing nowhere).
func TestTrunkRegistrarWithPortSkipsSRV(t *testing.T) {
	reg := startRegistrar(t, 0, 60)
	port := portOf(t, reg.addr)
	d := startDNS(t,
		fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 10 50 %d elsewhere.carrier.test.", testpeer.FreeUDPPorts(t, 2)),
		"elsewhere.carrier.test. 60 IN A 127.0.0.1",
		"carrier.test. 60 IN A 127.0.0.1")
	s := startServer(t, srvTrunk(d, fmt.Sprintf("carrier.test:%d", port)))
	st := registered(t, s)
	require.Equal(t, fmt.Sprintf("carrier.test:%d (%s)", port, reg.addr), st.Target.String())
	for _, q := range d.questions() {
		require.False(t, strings.HasPrefix(q, "SRV"), "asked %s", q)
	}
	require.NoError(t, s.Close())
	reg.wait(t)
}

// Each refresh looks the registrar up again: when the carrier moves its SRV record, the
// refresh goes to the new registrar.
func TestTrunkRefreshResolvesAgain(t *testing.T) {
	old, moved := startRegistrar(t, 0, 4), startRegistrar(t, 0, 60)
	srv := func(r *sippRegistrar) string {
		return fmt.Sprintf("_sip._udp.carrier.test. 60 IN SRV 10 50 %d sip.carrier.test.", portOf(t, r.addr))
	}
	d := startDNS(t, srv(old), "sip.carrier.test. 60 IN A 127.0.0.1")
	var mu sync.Mutex
	var seen []RegistrarTarget
	s := startServer(t, func(c *Config) {
		srvTrunk(d, "carrier.test")(c)
		c.OnTrunkState = func(st TrunkState) {
			mu.Lock()
			seen = append(seen, st.Target)
			mu.Unlock()
		}
	})
	require.Equal(t, old.addr, registered(t, s).Target.Addr.String())
	d.set(t, srv(moved), "sip.carrier.test. 60 IN A 127.0.0.1")
	require.Eventually(t, func() bool { return s.TrunkStates()[0].Target.Addr.String() == moved.addr }, 30*time.Second,
		10*time.Millisecond, "the refresh (2 s into a 4 s grant) went to the moved registrar")
	st := s.TrunkStates()[0]
	require.Equal(t, RegRegistered, st.State)
	require.Equal(t, 2, st.Registrations)
	mu.Lock()
	require.Equal(t, moved.addr, seen[len(seen)-1].Addr.String(), "the move was told")
	mu.Unlock()
	require.NoError(t, s.Close())
	moved.wait(t)
}
