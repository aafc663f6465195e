package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/config"
	"lianxin/internal/testpeer"
)

// The admin that startGateway configures.
const testAdmin, testAdminPassword = "wallboard", "wallboard-pw"

// testGateway is a gateway started in-process on loopback ports, with real sockets.
type testGateway struct {
	app     *App
	sipAddr string
	http    string
	dataDir string
}

func startGateway(t testing.TB, mutate func(*config.Config)) *testGateway {
	t.Helper()
	testpeer.Require(t, "baresip", "sipp")
	cfg := config.Default()
	cfg.SIP.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Seats.Password = "secret"
	// the gateway has no built-in admin: the tests' screens log in as this one
	cfg.Desk.Admins = map[string]string{testAdmin: testAdminPassword}
	cfg.ACD.WrapUp = 0
	cfg.ACD.RingTimeout = 4 * time.Second
	cfg.ASR.Default = "none"
	cfg.Survey.Enabled = false // the survey test turns it on
	cfg.Media.PortMin, cfg.Media.PortMax = 42000, 47999
	if mutate != nil {
		mutate(&cfg)
	}
	require.NoError(t, cfg.Validate())
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	app, err := NewApp(cfg, log)
	require.NoError(t, err)
	require.NoError(t, app.Wire())
	require.NoError(t, app.Start(app.routes))
	t.Cleanup(func() { app.Close() })
	return &testGateway{app: app, sipAddr: app.sip.Addr().String(), http: app.httpLn.Addr().String(), dataDir: cfg.DataDir}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// seat starts a baresip seat phone that registers and auto-answers.
func (g *testGateway) seat(t testing.TB, id string, opts ...func(*testpeer.BaresipOptions)) *testpeer.Baresip {
	t.Helper()
	o := testpeer.BaresipOptions{Gateway: g.sipAddr, User: id, Password: "secret", Audio: seatAudio(t), Lifetime: 120 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	b := testpeer.StartBaresip(t, o)
	require.True(t, b.WaitLog(t, "200 OK", 10*time.Second), "seat %s did not register:\n%s", id, b.Log())
	// a queued caller takes a seat the moment it registers, so it may already be ringing
	require.Eventually(t, func() bool { return g.app.acd.States()[id] != "offline" }, 5*time.Second, 20*time.Millisecond)
	return b
}

// seatAudio is the agent's speech padded with silence, so baresip (which hangs up when
// its file ends) outlasts the call.
func seatAudio(t testing.TB) string {
	t.Helper()
	pcm, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "seat.wav")
	require.NoError(t, testpeer.WriteWAV(out, append(pcm, make([]int16, 8000*60)...), 8000, 1))
	return out
}

func fixture(rel string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", rel))
	return p
}

// sippCall runs a sipp scenario from testdata/sipp with the caller fixture as its audio.
func (g *testGateway) sippCall(ctx context.Context, t testing.TB, scenario string, extra ...string) (string, error) {
	t.Helper()
	return g.sippCallWAV(ctx, t, scenario, fixture("audio/caller.wav"), extra...)
}

// sippCallWAV is sippCall with the caller speaking wav (8 kHz mono PCM16).
func (g *testGateway) sippCallWAV(ctx context.Context, t testing.TB, scenario, wav string, extra ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	write := testpeer.WritePCMUPcap
	if strings.Contains(scenario, "pcma") {
		write = testpeer.WritePCMAPcap
	}
	dur, err := write(wav, filepath.Join(dir, "caller.pcap"))
	require.NoError(t, err)
	mp := testpeer.FreeUDPPorts(t, 4)
	args := []string{g.sipAddr, "-sf", fixture("sipp/" + scenario), "-s", "12345", "-p", "0",
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(mp), "-m", "1", "-d", fmt.Sprint((dur + 500*time.Millisecond).Milliseconds())}
	return testpeer.Sipp(ctx, t, dir, append(args, extra...)...)
}

func (g *testGateway) metrics(t testing.TB) string {
	t.Helper()
	res, err := http.Get("http://" + g.http + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// metric returns the value of one exposition line that starts with prefix, or -1.
func metricValue(body, prefix string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			var v float64
			if _, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v); err == nil {
				return v
			}
		}
	}
	return -1
}

func recordings(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(filepath.Join(dataDir, "recordings"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".wav") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func sendUDP(t *testing.T, addr string, msg []byte) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(msg)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}
