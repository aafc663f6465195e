package sip

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"lianxin/internal/testpeer"
)

// sipp's own digest (qop=auth, nc=00000001, one nonce per seat) registers five seats in
// a rush from one address.
func TestSippRegistersWithDigest(t *testing.T) {
	s := startServer(t, nil)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "seat-%02d;[authentication username=seat-%02d password=%s]\n", i, i, testPassword)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "seats.csv"), []byte(b.String()), 0o600))
	scenario, err := filepath.Abs("../testdata/sipp/seat_register.xml")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := testpeer.Sipp(ctx, t, dir, s.Addr().String(), "-sf", scenario, "-inf", filepath.Join(dir, "seats.csv"),
		"-set", "uas", "127.0.0.1:5999", "-p", "0", "-m", "5", "-r", "50")
	require.NoError(t, err, out)
	for i := 1; i <= 5; i++ {
		_, ok := s.Registration(fmt.Sprintf("seat-%02d", i))
		require.True(t, ok, "seat-%02d", i)
	}
}

// sipp floods 300 INVITEs in 3 s from one address while a caller from another calls:
// the flood gets its burst and then 503s, the caller reaches the handler.
func TestSippInviteFloodDoesNotCrowdOutCaller(t *testing.T) {
	testpeer.Require(t, "sipp")
	floodPort := testpeer.FreeUDPPorts(t, 2)
	floodAddr := fmt.Sprintf("127.0.0.1:%d", floodPort)
	var handled atomic.Int64
	s := startServerWith(t, func(c *Config) {}, func(s *Server) {
		s.source = func(req *siplib.Request) netip.Addr {
			if req.Source() == floodAddr {
				return netip.MustParseAddr("198.51.100.66")
			}
			return sourceAddr(req)
		}
		s.handler = func(c *InboundCall) {
			handled.Add(1)
			_ = c.Reject(486, "Busy Here")
		}
	})
	scenario, err := filepath.Abs("testdata/sipp/flood.xml")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan string, 1)
	go func() {
		out, _ := testpeer.Sipp(ctx, t, t.TempDir(), s.Addr().String(), "-sf", scenario, "-p", fmt.Sprint(floodPort),
			"-m", "300", "-r", "100", "-l", "300")
		done <- out
	}()
	limited := func() float64 {
		return s.counter(t, "lianxin_sip_rate_limited_total", map[string]string{"method": "INVITE"})
	}
	require.Eventually(t, func() bool { return limited() > 0 }, 30*time.Second, 10*time.Millisecond, "the flood is under way")
	caller := newUDPPeer(t, s.Addr().String())
	caller.send(caller.invite("real-caller"))
	require.Equal(t, 486, caller.finalFor("real-caller").StatusCode, "the caller reaches the handler during the flood")
	out := <-done
	require.Equal(t, 270.0, limited(), "the clock stands still: the flood gets its burst of 30, no more:\n%s", out)
	require.Equal(t, int64(31), handled.Load(), "30 of the flood and the caller")
}

// A real phone keeps its registration under the new nonce rules: baresip refreshes every
// few seconds (it asks for a fresh challenge each time), and none of its refreshes is
// taken for a replay or a wrong password, also once its old nonces are past their life.
func TestBaresipRefreshesRegistration(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MinExpires = time.Second })
	b := startBaresipSeat(t, s.Addr().String(), "seat-03", 3)
	require.True(t, b.WaitLog(t, "200 OK", 10*time.Second), b.Log())
	count := func(result string) float64 {
		return s.counter(t, "lianxin_sip_register_requests_total", map[string]string{"result": result})
	}
	s.clock.Advance(time.Minute) // every nonce given so far is now too old
	require.Eventually(t, func() bool { return count("ok") >= 3 }, 30*time.Second, 50*time.Millisecond,
		"baresip refreshed twice:\n%s", b.Log())
	for _, bad := range []string{"forbidden", "replayed", "bad_request", "blocked"} {
		require.Zero(t, count(bad), bad)
	}
	_, registered := s.Registration("seat-03")
	require.True(t, registered)
}

// startBaresipSeat runs baresip as seat registering every regint seconds (testpeer's
// seats refresh only every minute).
func startBaresipSeat(t *testing.T, gateway, seat string, regint int) *baresipProc {
	t.Helper()
	testpeer.Require(t, "baresip")
	dir := t.TempDir()
	port := testpeer.FreeUDPPorts(t, 4)
	cfg := fmt.Sprintf("module_path /usr/lib/baresip/modules\nsip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\n"+
		"audio_player aubridge,nil\naudio_alert aubridge,nil\nmodule g711.so\nmodule aubridge.so\n"+
		"module_tmp uuid.so\nmodule_tmp account.so\nmodule_app menu.so\nstatmode_default off\n", port)
	acct := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_user=%s;auth_pass=%s;regint=%d;audio_codecs=pcmu\n",
		seat, gateway, seat, testPassword, regint)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o600))
	p := &baresipProc{cmd: exec.Command("baresip", "-f", dir, "-t", "60"), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

type baresipProc struct {
	cmd  *exec.Cmd
	log  syncBuffer
	done chan struct{}
}

// WaitLog waits until the output contains s.
func (p *baresipProc) WaitLog(t *testing.T, s string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if strings.Contains(p.log.String(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (p *baresipProc) Log() string { return p.log.String() }
