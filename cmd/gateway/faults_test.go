package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-audio/wav"
	"github.com/stretchr/testify/require"

	"lianxin/asr/asrtest/tone"
	"lianxin/asr/funasr/funasrtest"
	"lianxin/config"
	"lianxin/internal/testpeer"
	"lianxin/store"
)

// childEnv makes the test binary a gateway process (args in childArgsEnv, split on \x1f),
// so a fault test can kill it as an operator's kill -9 or a power cut would.
const (
	childEnv     = "LIANXIN_GATEWAY_CHILD"
	childArgsEnv = "LIANXIN_GATEWAY_ARGS"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(context.Background(), strings.Split(os.Getenv(childArgsEnv), "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// gatewayProc is `gateway serve` in a process of its own.
type gatewayProc struct {
	cmd     *exec.Cmd
	log     *strings.Builder
	sipAddr string
	http    string
}

func startProc(t *testing.T, dataDir string, sipPort, httpPort int) *gatewayProc {
	t.Helper()
	p := &gatewayProc{log: &strings.Builder{}, sipAddr: fmt.Sprintf("127.0.0.1:%d", sipPort),
		http: fmt.Sprintf("127.0.0.1:%d", httpPort)}
	args := []string{"serve", "--sip-listen", p.sipAddr, "--http-listen", p.http, "--data-dir", dataDir,
		"--asr", "none", "--seat-password", "secret", "--seats", "4"}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), childEnv+"=1", childArgsEnv+"="+strings.Join(args, "\x1f"))
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { p.kill() })
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + p.http + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "the gateway process did not come up")
	return p
}

func (p *gatewayProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func (p *gatewayProc) answered(t *testing.T) float64 {
	t.Helper()
	return metricValue((&testGateway{http: p.http}).metrics(t), `lianxin_calls_answered_total{line="12345"}`)
}

// kill -9 mid-call, then a restart on the same data: the call is closed as interrupted at
// the last moment anything was heard of it, its call.ended reaches the screens' log, and
// its recording plays up to the kill.
func TestKilledMidCallIsClosedAtRestart(t *testing.T) {
	testpeer.Require(t, "baresip", "sipp")
	dataDir := t.TempDir()
	ports := testpeer.FreeUDPPorts(t, 2)
	gw := startProc(t, dataDir, ports, ports+1)
	testpeer.StartBaresip(t, testpeer.BaresipOptions{Gateway: gw.sipAddr, User: "seat-01", Password: "secret",
		Audio: seatAudio(t), Lifetime: 120 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() { _, _ = (&testGateway{sipAddr: gw.sipAddr}).sippCall(ctx, t, "caller.xml") }()
	require.Eventually(t, func() bool { return gw.answered(t) == 1 }, 30*time.Second, 50*time.Millisecond, gw.log.String())
	time.Sleep(3 * time.Second) // talk long enough for the recorder to flush
	gw.kill()
	cancel()

	gw = startProc(t, dataDir, ports, ports+1)
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, gw.cmd.Wait())

	st, err := store.OpenSQLite(context.Background(), filepath.Join(dataDir, "lianxin.db"))
	require.NoError(t, err)
	defer st.Close()
	calls, err := st.Calls(context.Background(), store.CallFilter{})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	c := calls[0]
	require.NotNil(t, c.EndedAt, "the interrupted call is closed")
	require.Contains(t, c.EndReason, "interrupted")
	require.Equal(t, "answered", c.Outcome)
	require.False(t, c.EndedAt.Before(*c.AnsweredAt))
	evs, err := st.Events(context.Background(), store.EventFilter{CallID: c.ID})
	require.NoError(t, err)
	require.Equal(t, "call.ended", evs[len(evs)-1].Type, "screens replaying the log see the call end")

	recs, err := filepath.Glob(filepath.Join(dataDir, "recordings", "*", c.ID+".wav"))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	f, err := os.Open(recs[0])
	require.NoError(t, err)
	defer f.Close()
	buf, err := wav.NewDecoder(f).FullPCMBuffer()
	require.NoError(t, err, "the recording of a killed call still decodes")
	require.Greater(t, len(buf.Data)/2, 8000, "at least a second of the call was recorded")
	var energy float64
	for i := 0; i < len(buf.Data); i += 2 {
		energy += float64(buf.Data[i]) * float64(buf.Data[i])
	}
	require.Greater(t, energy/float64(len(buf.Data)/2), 1e4, "the caller's speech is in the recording")
}

// Stopping at once (the second signal) with callers queued keeps a record of every call,
// each closed with its outcome.
func TestStopWithQueuedCallersKeepsEveryRecord(t *testing.T) {
	const n = 20
	g := startGateway(t, nil) // no seat registers: every caller queues
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sipp := make(chan struct{})
	go func() {
		defer close(sipp)
		_, _ = g.sippCall(ctx, t, "caller.xml", "-m", fmt.Sprint(n), "-l", fmt.Sprint(n), "-r", fmt.Sprint(n))
	}()
	require.Eventually(t, func() bool { return g.app.acd.QueueLen() == n }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, g.app.Close())
	cancel()
	<-sipp

	st, err := store.OpenSQLite(context.Background(), filepath.Join(g.dataDir, "lianxin.db"))
	require.NoError(t, err)
	defer st.Close()
	calls, err := st.Calls(context.Background(), store.CallFilter{})
	require.NoError(t, err)
	require.Len(t, calls, n, "a record for every queued caller")
	for _, c := range calls {
		require.NotNil(t, c.EndedAt, "call %s is closed", c.ID)
		require.Equal(t, "failed", c.Outcome, "call %s: refused by the stopping gateway", c.ID)
	}
	open, err := st.OpenCalls(context.Background())
	require.NoError(t, err)
	require.Empty(t, open)
}

// The recogniser crashing mid-call costs no words: the resilience layer reconnects and
// replays, so what the caller said after the crash is still in the stored transcript, and
// the call itself goes on undisturbed.
func TestRecogniserKilledMidCall(t *testing.T) {
	srv := funasrtest.New()
	defer srv.Close()
	var utterances [][]string
	for i := range 8 {
		w := tone.Words()
		utterances = append(utterances, []string{w[i%16], w[(i+5)%16], w[(i+9)%16]})
	}
	pcm, err := tone.Synth(8000, 500*time.Millisecond, time.Second, utterances...)
	require.NoError(t, err)
	wavPath := filepath.Join(t.TempDir(), "caller.wav")
	require.NoError(t, testpeer.WriteWAV(wavPath, pcm, 8000, 1))

	g := startGateway(t, func(c *config.Config) {
		c.ASR.Default = "mandarin"
		c.ASR.Engines = map[string]map[string]any{"mandarin": {"type": "funasr", "url": srv.URL()}}
	})
	g.seat(t, "seat-01")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	var out string
	go func() { var err error; out, err = g.sippCallWAV(ctx, t, "caller.xml", wavPath); done <- err }()

	callerFinals := func() []string {
		evs, err := g.app.store.Events(ctx, store.EventFilter{})
		require.NoError(t, err)
		var texts []string
		for _, ev := range evs {
			var d struct{ Channel, Text string }
			if ev.Type == "transcript.final" && json.Unmarshal(ev.Data, &d) == nil && d.Channel == "caller" {
				texts = append(texts, d.Text)
			}
		}
		return texts
	}
	require.Eventually(t, func() bool { return len(callerFinals()) >= 2 }, 30*time.Second, 50*time.Millisecond)
	before := srv.Connections()
	srv.Kill() // every live connection drops, as when the engine's process dies
	require.NoError(t, <-done, out)

	last := strings.Join(utterances[len(utterances)-1], " ")
	require.Eventually(t, func() bool { return slices.Contains(callerFinals(), last) }, 15*time.Second, 50*time.Millisecond,
		"the last utterance, said after the crash, is transcribed: %q", callerFinals())
	require.Greater(t, srv.Connections(), before, "the streams reconnected")
	var calls []store.Call
	require.Eventually(t, func() bool {
		calls, err = g.app.store.Calls(ctx, store.CallFilter{})
		return err == nil && len(calls) == 1 && calls[0].EndedAt != nil
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "answered", calls[0].Outcome)
	require.Contains(t, calls[0].EndReason, "caller hung up", "the call ended by the caller, not by the crash")
}
