package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

// sippRegistrar is a sipp registrar (testdata/sipp/registrar.xml) on loopback.
type sippRegistrar struct {
	addr string
	done chan error
	out  string
}

// startRegistrar runs the sipp registrar: fail 503s first, then digest and grants of
// grant seconds, until the gateway removes its registration.
func startRegistrar(t testing.TB, fail, grant int) *sippRegistrar {
	t.Helper()
	return startRegistrarOn(t, testpeer.FreeUDPPorts(t, 2), fail, grant)
}

// startRegistrarOn is startRegistrar on a given port.
func startRegistrarOn(t testing.TB, port, fail, grant int) *sippRegistrar {
	t.Helper()
	return startRegistrarAt(t, "127.0.0.1", port, fail, grant)
}

// startRegistrarAt is startRegistrar on a given loopback address and port.
func startRegistrarAt(t testing.TB, ip string, port, fail, grant int) *sippRegistrar {
	t.Helper()
	testpeer.Require(t, "sipp")
	scenario, err := filepath.Abs("testdata/sipp/registrar.xml")
	require.NoError(t, err)
	r := &sippRegistrar{addr: net.JoinHostPort(ip, fmt.Sprint(port)), done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	go func() {
		out, err := testpeer.Sipp(ctx, t, t.TempDir(), "-sf", scenario, "-i", ip, "-p", fmt.Sprint(port), "-m", "1",
			"-set", "user", "0580123450", "-set", "pass", "carrier-pw", "-set", "grant", fmt.Sprint(grant),
			"-set", "fail", fmt.Sprint(fail))
		r.out = out
		r.done <- err
	}()
	// the gateway registers at once: wait until sipp has its port
	require.Eventually(t, func() bool {
		select {
		case err := <-r.done:
			require.Fail(t, "sipp stopped", "%v\n%s", err, r.out)
		default:
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 10*time.Millisecond, "sipp never bound its port")
	return r
}

// wait returns sipp's verdict: nil when its scenario ran to the end.
func (r *sippRegistrar) wait(t testing.TB) {
	t.Helper()
	select {
	case err := <-r.done:
		require.NoError(t, err, r.out)
	case <-time.After(60 * time.Second):
		t.Fatal("the registrar never saw the registration removed")
	}
}

func carrierTrunk(registrar string, reg func(*TrunkRegistration)) Inbound {
	r := &TrunkRegistration{Registrar: registrar, Username: "0580123450", Password: "carrier-pw", RetryMin: 200 * time.Millisecond}
	if reg != nil {
		reg(r)
	}
	return Inbound{Trunks: []Trunk{{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Register: r}}}
}

// The gateway registers at a carrier that challenges every REGISTER and grants 4 s of the
// hour asked for: it answers each challenge's new nonce, plans its refresh for halfway
// through the granted time, refreshes, and removes the registration when it stops.
func TestTrunkRegistersRefreshesAndUnregisters(t *testing.T) {
	reg := startRegistrar(t, 0, 4)
	s := startServer(t, func(c *Config) { c.Inbound = carrierTrunk(reg.addr, nil) })
	require.Eventually(t, func() bool { return s.TrunkStates()[0].Registrations >= 2 }, 30*time.Second, 10*time.Millisecond,
		"registered and refreshed: %+v", s.TrunkStates())
	st, now := s.TrunkStates()[0], s.clock.Now()
	require.Equal(t, RegRegistered, st.State)
	require.Equal(t, now.Add(4*time.Second), st.Expires, "the registrar's grant, not the hour asked for")
	require.Equal(t, now.Add(2*time.Second), st.NextAttempt, "the refresh is planned before the grant runs out")
	require.Zero(t, st.FailuresTotal)
	labels := map[string]string{"trunk": "carrier"}
	require.Equal(t, 1.0, s.counter(t, "lianxin_trunk_registered", labels))
	require.Equal(t, 1.0, s.counter(t, "lianxin_trunk_registration_state", map[string]string{"trunk": "carrier", "state": "registered"}))

	require.NoError(t, s.Close())
	reg.wait(t) // the removal (Expires: 0, authenticated) ended sipp's scenario
	require.Equal(t, RegUnregistered, s.TrunkStates()[0].State)
	require.Equal(t, 0.0, s.counter(t, "lianxin_trunk_registered", labels))
}

// A registrar answering 503 is retried after waits that double, each with jitter, until it
// takes the registration; the states on the way are reported.
func TestTrunkRegistrationBacksOffAfter503(t *testing.T) {
	reg := startRegistrar(t, 2, 60)
	var mu sync.Mutex
	var seen []TrunkState
	s := startServer(t, func(c *Config) {
		c.Inbound = carrierTrunk(reg.addr, nil)
		c.OnTrunkState = func(st TrunkState) {
			mu.Lock()
			seen = append(seen, st)
			mu.Unlock()
		}
	})
	require.Eventually(t, func() bool { return s.TrunkStates()[0].State == RegRegistered }, 30*time.Second, 10*time.Millisecond)
	now := s.clock.Now()
	mu.Lock()
	var states []RegState
	for _, st := range seen {
		states = append(states, st.State)
	}
	require.Equal(t, []RegState{RegBackingOff, RegFailing, RegBackingOff, RegFailing, RegRegistered}, states)
	first, second := seen[0], seen[2]
	mu.Unlock()
	require.Contains(t, first.LastError, "503 Service Unavailable")
	require.Equal(t, 1, first.Failures)
	require.Equal(t, 2, second.Failures)
	wait1, wait2 := first.NextAttempt.Sub(now), second.NextAttempt.Sub(now)
	require.True(t, wait1 >= 100*time.Millisecond && wait1 <= 200*time.Millisecond, "first wait %s: RetryMin less jitter", wait1)
	require.True(t, wait2 >= 200*time.Millisecond && wait2 <= 400*time.Millisecond, "second wait %s: doubled, less jitter", wait2)
	require.Equal(t, 503, first.LastStatus)
	require.Equal(t, 2.0, s.counter(t, "lianxin_trunk_registration_failures_total", map[string]string{"trunk": "carrier"}))
	require.Equal(t, 200.0, s.counter(t, "lianxin_trunk_registration_last_status", map[string]string{"trunk": "carrier"}))
	require.NoError(t, s.Close())
	reg.wait(t)
}

func TestBackoffDoublesToItsCap(t *testing.T) {
	c := newRegClient("t", TrunkRegistration{Registrar: "127.0.0.1", Username: "u", RetryMin: time.Second, RetryMax: 10 * time.Second},
		nil, siplib.ContactHeader{}, time.Now, slog.New(slog.DiscardHandler), nil)
	c.jitter = func() float64 { return 0 }
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, c.backoff(n))
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}, got)
	c.jitter = func() float64 { return 1 }
	require.Equal(t, 5*time.Second, c.backoff(6), "jitter leaves out up to half")
	require.Equal(t, 2*time.Second, refreshAfter(4*time.Second))
	require.Equal(t, time.Hour-30*time.Second, refreshAfter(time.Hour))
}

// BenchmarkRegisterRecovery measures how long after its registrar comes back a trunk is
// registered again, with the default retry settings (1 s doubling to 2 min, 10 s per
// attempt), after an outage of LIANXIN_OUTAGE (default 30s) that began when the gateway
// started. Run it once: go test -run '^$' -bench RegisterRecovery -benchtime 1x ./sip
func BenchmarkRegisterRecovery(b *testing.B) {
	outage := 30 * time.Second
	if v, err := time.ParseDuration(os.Getenv("LIANXIN_OUTAGE")); err == nil {
		outage = v
	}
	for b.Loop() {
		port := testpeer.FreeUDPPorts(b, 2)
		s, err := New(Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
			Inbound: Inbound{Trunks: []Trunk{{Name: "carrier", Sources: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
				Register: &TrunkRegistration{Registrar: fmt.Sprintf("127.0.0.1:%d", port), Username: "0580123450", Password: "carrier-pw"}}}}},
			func(*InboundCall) {})
		require.NoError(b, err)
		require.NoError(b, s.Start())
		time.Sleep(outage)
		reg := startRegistrarOn(b, port, 0, 3600)
		back := time.Now()
		for s.TrunkStates()[0].State != RegRegistered {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(back)
		st := s.TrunkStates()[0]
		require.NoError(b, s.Close())
		reg.wait(b)
		b.ReportMetric(took.Seconds(), "s_to_recover")
		b.ReportMetric(float64(st.Registrations), "registrations")
	}
}

// A failing registration is a failing part of the gateway with its next attempt; one that
// holds or was removed clears it; one under way changes nothing.
func TestTrunkStateHealth(t *testing.T) {
	next := time.Date(2026, 12, 6, 9, 30, 0, 0, time.Local)
	target := RegistrarTarget{Host: "sip2.carrier.test:5060", Addr: netip.MustParseAddrPort("192.0.2.7:5060")}
	settled, err := TrunkState{State: RegBackingOff, Failures: 3, LastError: "503 Service Unavailable", NextAttempt: next,
		Target: target}.Health()
	require.True(t, settled)
	require.ErrorContains(t, err, "(3 in a row) at sip2.carrier.test:5060 (192.0.2.7:5060)", "names the registrar it failed at")
	require.ErrorContains(t, err, "503 Service Unavailable")
	require.ErrorContains(t, err, "09:30:00")
	for _, st := range []RegState{RegRegistered, RegUnregistered} {
		settled, err = TrunkState{State: st}.Health()
		require.True(t, settled, st)
		require.NoError(t, err, st)
	}
	for _, st := range []RegState{RegRegistering, RegFailing} {
		settled, _ = TrunkState{State: st}.Health()
		require.False(t, settled, st)
	}
}
