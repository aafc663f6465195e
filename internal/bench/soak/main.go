// Command soak is the long-run reliability check of issue "nothing lost": 2× nominal load
// (120 callers on 60 seats) with real sipp peers for a number of minutes, calls of random
// length (10–90 s), seats going away and coming back, an admin screen connected. It reports
// calls lost, records missing, events missing and recordings unplayable, which must all be
// 0, and the gateway's memory over time, which must be flat.
//
//	go run ./internal/bench/soak -gateway bin/gateway -minutes 30
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"lianxin/internal/bench/benchkit"
)

const seatPassword = "soak-seat-pw"

type options struct {
	gateway string
	minutes float64
	seats   int
	callers int
	keep    bool
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/gateway", "gateway binary")
	flag.Float64Var(&o.minutes, "minutes", 30, "how long callers keep coming")
	flag.IntVar(&o.seats, "seats", 60, "seats (sipp answers for all of them)")
	flag.IntVar(&o.callers, "callers", 120, "concurrent callers")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.Parse()
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	res.print(os.Stdout)
	if !res.ok() {
		os.Exit(1)
	}
}

// soak is one run: the gateway process, its peers and what the screen saw.
type soak struct {
	o                 options
	root, dir         string
	sipAddr, httpAddr string
	gw                *benchkit.Gateway
	screen            *screen
}

func run(o options) (*result, error) {
	s := &soak{o: o}
	s.root, _ = os.Getwd()
	var err error
	if s.dir, err = os.MkdirTemp("", "soak-"); err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(s.dir)
	} else {
		fmt.Fprintln(os.Stderr, "soak: work directory", s.dir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.startGateway(ctx); err != nil {
		return nil, err
	}
	defer s.gw.Stop()
	stopSeats, err := s.startSeats(ctx)
	if err != nil {
		return nil, err
	}
	defer stopSeats()
	if s.screen, err = openScreen(ctx, s.httpAddr); err != nil {
		return nil, err
	}
	defer s.screen.close()

	res := &result{started: time.Now()}
	var wg sync.WaitGroup
	churnCtx, stopChurn := context.WithCancel(ctx)
	wg.Add(2)
	go func() { defer wg.Done(); s.churnSeats(churnCtx) }()
	go func() { defer wg.Done(); s.sampleMemory(churnCtx, res) }()
	created, callErr := s.runCallers(ctx)
	stopChurn()
	wg.Wait()
	res.sippCreated, res.sippErr = created, callErr
	time.Sleep(5 * time.Second) // the last hang-ups reach the store and the screen
	return res, s.check(ctx, res)
}

func (s *soak) startGateway(ctx context.Context) error {
	s.sipAddr = fmt.Sprintf("127.0.0.1:%d", benchkit.FreePort())
	s.httpAddr = fmt.Sprintf("127.0.0.1:%d", benchkit.FreePort())
	if err := benchkit.Prepare(s.root, s.dir, s.o.seats, seatPassword); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`sip: {listen: %q, max_calls: %d, trusted_sources: [127.0.0.1]}
http: {listen: %q}
data_dir: %q
seats: {count: %d, password: %s}
acd: {ring_timeout: 8s, wrap_up: 2s, max_wait: 45s, max_queue: %d}
media: {port_min: 40000, port_max: 59999, inactivity_timeout: 30s}
asr: {default: none}
desk: {admins: {soak: %s}}
log_level: warn
`, s.sipAddr, 4*s.o.callers, s.httpAddr, filepath.Join(s.dir, "data"), s.o.seats, seatPassword,
		5*s.o.seats, adminPassword)
	gw, err := benchkit.StartGateway(ctx, s.o.gateway, s.dir, cfg, s.httpAddr)
	s.gw = gw
	return err
}

// startSeats registers every seat to one answering sipp (seat_answer.xml).
func (s *soak) startSeats(ctx context.Context) (stop func(), err error) {
	uasAddr := fmt.Sprintf("127.0.0.1:%d", benchkit.FreePort())
	uas := exec.CommandContext(ctx, "sipp", "-sf", filepath.Join(s.root, "testdata/sipp/seat_answer.xml"), "-i", "127.0.0.1",
		"-p", strings.Split(uasAddr, ":")[1], "-mi", "127.0.0.1", "-mp", "30000", "-ci", "127.0.0.1",
		"-cp", fmt.Sprint(benchkit.FreePort()), "-nostdin")
	uas.Dir = s.dir
	out, _ := os.Create(filepath.Join(s.dir, "seats.out"))
	uas.Stdout, uas.Stderr = out, out
	if err := uas.Start(); err != nil {
		return nil, fmt.Errorf("answering seats: %w", err)
	}
	stop = func() { _ = uas.Process.Kill(); _ = uas.Wait() }
	reg := exec.CommandContext(ctx, "sipp", s.sipAddr, "-sf", filepath.Join(s.root, "testdata/sipp/seat_register.xml"),
		"-inf", filepath.Join(s.dir, "seats.csv"), "-set", "uas", uasAddr, "-i", "127.0.0.1", "-p", fmt.Sprint(benchkit.FreePort()),
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(benchkit.FreePort()), "-m", fmt.Sprint(s.o.seats), "-r", "50", "-nostdin")
	reg.Dir = s.dir
	if b, err := reg.CombinedOutput(); err != nil {
		stop()
		return nil, fmt.Errorf("registering seats: %w: %s", err, b)
	}
	return stop, nil
}

// runCallers keeps o.callers calls up for o.minutes (random lengths), then lets the last
// ones finish (sipp's soft exit on SIGUSR1) and returns how many calls sipp created.
func (s *soak) runCallers(ctx context.Context) (int, error) {
	rate := float64(s.o.callers) / 50 * 1.2 // mean call 50 s, a little over to keep the queue busy
	// -aa: queued callers answer the gateway's OPTIONS probes, as phones do
	caller := exec.CommandContext(ctx, "sipp", s.sipAddr, "-sf", filepath.Join(s.root, "testdata/sipp/caller_soak.xml"),
		"-s", "12345", "-aa", "-i", "127.0.0.1", "-p", fmt.Sprint(benchkit.FreePort()), "-mi", "127.0.0.1", "-mp", "20000",
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(benchkit.FreePort()), "-l", fmt.Sprint(s.o.callers),
		"-r", fmt.Sprintf("%.1f", rate), "-nostdin", "-trace_stat", "-stf", filepath.Join(s.dir, "stat.csv"), "-fd", "5")
	caller.Dir = s.dir
	out, _ := os.Create(filepath.Join(s.dir, "caller.out"))
	caller.Stdout, caller.Stderr = out, out
	if err := caller.Start(); err != nil {
		return 0, err
	}
	time.Sleep(time.Duration(s.o.minutes * float64(time.Minute)))
	_ = caller.Process.Signal(syscall.SIGUSR1) // stop placing calls; the placed ones finish
	err := caller.Wait()
	created, serr := sippCreated(filepath.Join(s.dir, "stat.csv"))
	if serr != nil {
		return 0, serr
	}
	return created, err
}

// churnSeats sends a random seat away and brings it back 5–30 s later, all run long, as
// agents on breaks do.
func (s *soak) churnSeats(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seat := fmt.Sprintf("seat-%02d", 1+rand.IntN(s.o.seats))
		tok, err := login(s.httpAddr, seat, seatPassword)
		if err != nil {
			continue
		}
		if setState(s.httpAddr, tok, "away") != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(5+rand.IntN(25)) * time.Second):
			}
			_ = setState(s.httpAddr, tok, "available")
		}()
	}
}

func (s *soak) sampleMemory(ctx context.Context, res *result) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		if p, err := benchkit.Sample(s.gw.Pid); err == nil {
			res.memory = append(res.memory, p)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
