// Command calls is the call-path benchmark: it starts the gateway binary, registers N
// answering seats (one sipp instance), places N concurrent bridged, recorded
// calls from a sipp caller streaming speech (the seats stream speech back), and reports CPU-seconds per call-minute,
// memory per call, packet loss and the relay's added delay (p99).
//
//	go run ./internal/bench/calls -gateway bin/gateway -n 500 -hold 60s
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"lianxin/internal/bench/benchkit"
)

func main() {
	gw := flag.String("gateway", "bin/gateway", "gateway binary")
	n := flag.Int("n", 100, "concurrent calls (and seats), at most 999")
	hold := flag.Duration("hold", 60*time.Second, "how long each call lasts")
	rate := flag.Int("rate", 50, "new calls per second while ramping up")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	if err := run(*gw, *n, *hold, *rate, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func addr(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }

func run(bin string, n int, hold time.Duration, rate int, keep bool) error {
	root, _ := os.Getwd()
	dir, err := os.MkdirTemp("", "bench-calls-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	sipAddr, httpAddr, uasAddr := addr(benchkit.FreePort()), addr(benchkit.FreePort()), addr(benchkit.FreePort())
	if err := benchkit.Prepare(root, dir, n, "bench"); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := fmt.Sprintf("sip: {listen: %q, max_calls: %d, trusted_sources: [127.0.0.1]}\nhttp: {listen: %q}\ndata_dir: %q\nseats: {count: %d, password: bench}\n"+
		"acd: {ring_timeout: 10s, wrap_up: 0s, max_wait: 60s}\nmedia: {port_min: 40000, port_max: 59999}\nasr: {default: none}\nlog_level: warn\n",
		sipAddr, n+50, httpAddr, filepath.Join(dir, "data"), n)
	gw, err := benchkit.StartGateway(ctx, bin, dir, cfg, httpAddr)
	if err != nil {
		return err
	}
	defer gw.Stop()
	uas := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join(root, "testdata/sipp/seat_answer.xml"), "-i", "127.0.0.1",
		"-p", strings.Split(uasAddr, ":")[1], "-mi", "127.0.0.1", "-mp", "50000", "-ci", "127.0.0.1", "-cp", fmt.Sprint(benchkit.FreePort()),
		"-nostdin")
	uas.Dir = dir
	uasOut, _ := os.Create(filepath.Join(dir, "seats.out"))
	uas.Stdout, uas.Stderr = uasOut, uasOut
	if err := uas.Start(); err != nil {
		return fmt.Errorf("answering seats: %w", err)
	}
	defer func() { _ = uas.Process.Kill(); _ = uas.Wait() }()
	reg := exec.CommandContext(ctx, "sipp", sipAddr, "-sf", filepath.Join(root, "testdata/sipp/seat_register.xml"),
		"-inf", filepath.Join(dir, "seats.csv"), "-set", "uas", uasAddr, "-i", "127.0.0.1", "-p", fmt.Sprint(benchkit.FreePort()),
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(benchkit.FreePort()), "-m", fmt.Sprint(n), "-r", "200", "-nostdin")
	reg.Dir = dir
	if out, err := reg.CombinedOutput(); err != nil {
		return fmt.Errorf("registering seats: %w: %s", err, tail(out))
	}
	idle, err := benchkit.Sample(gw.Pid)
	if err != nil {
		return err
	}
	callers, err := benchkit.StartCallers(ctx, root, dir, sipAddr, n, rate, hold, "-trace_stat", "-stf", filepath.Join(dir, "stat.csv"))
	if err != nil {
		return err
	}
	// Measure the steady state: every call up, none ending.
	steadyFrom, steadyTo, err := callers.Steady(gw.Pid, 2*time.Second)
	if err != nil {
		return err
	}
	callErr := callers.Wait()
	wall := time.Since(callers.Started)
	m, err := benchkit.Scrape(httpAddr)
	if err != nil {
		return err
	}
	return report(n, hold, wall, idle, steadyFrom, steadyTo, m, callErr, dir)
}

func report(n int, hold, wall time.Duration, idle, from, to benchkit.ProcSample, m map[string]float64, callErr error, dir string) error {
	cpu := (to.CPU - from.CPU).Seconds()
	callMinutes := float64(n) * to.At.Sub(from.At).Minutes()
	answered := benchkit.Sum(m, "lianxin_calls_answered_total")
	recv := benchkit.Sum(m, "lianxin_rtp_packets_received_total")
	lost := benchkit.Sum(m, "lianxin_rtp_packets_lost_total")
	drops := benchkit.Sum(m, "lianxin_tap_frames_dropped_total")
	p99 := benchkit.Quantile(m, "lianxin_rtp_relay_delay_seconds", 0.99)
	recs, _ := filepath.Glob(filepath.Join(dir, "data", "recordings", "*", "*.wav"))
	fmt.Printf("| calls | answered | recordings | CPU-s per call-minute | memory per call | packet loss | tap drops | p99 added relay delay |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %.0f | %d | %.3f | %.0f KiB | %.4f%% | %.0f | %.2f ms |\n", n, answered, len(recs),
		cpu/callMinutes, float64(from.RSS-idle.RSS)/float64(n)/1024, 100*lost/math.Max(recv+lost, 1), drops, p99*1000)
	for _, leg := range []string{"caller", "agent"} {
		r := m[`lianxin_rtp_packets_received_total{leg="`+leg+`"}`]
		l := m[`lianxin_rtp_packets_lost_total{leg="`+leg+`"}`]
		fmt.Printf("%s leg: %.0f packets received, %.0f lost (%.3f%%)\n", leg, r, l, 100*l/math.Max(r+l, 1))
	}
	fmt.Printf("\n(steady window %s of %s calls; wall %s; sipp caller: %v)\n", to.At.Sub(from.At).Round(time.Second), hold, wall.Round(time.Second), callErr)
	if callErr != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "caller.out"))
		fmt.Println(tail(b))
	}
	return nil
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}
