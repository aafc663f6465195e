package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Callers is sipp placing streaming calls (testdata/sipp/caller_stream.xml, looping
// dir/caller.ulaw) at the gateway, each held for the same time.
type Callers struct {
	cmd     *exec.Cmd
	Started time.Time
	// pace is how long sipp takes to place every call at its rate.
	pace, hold time.Duration
}

// StartCallers starts sipp placing n calls at rate a second to sipAddr, each held for hold;
// extra are more sipp arguments. sipp's output goes to dir/caller.out.
func StartCallers(ctx context.Context, root, dir, sipAddr string, n, rate int, hold time.Duration, extra ...string) (*Callers, error) {
	args := []string{sipAddr, "-sf", filepath.Join(root, "testdata/sipp/caller_stream.xml"), "-s", "12345",
		"-i", "127.0.0.1", "-p", fmt.Sprint(FreePort()), "-mi", "127.0.0.1", "-mp", "30000", "-ci", "127.0.0.1",
		"-cp", fmt.Sprint(FreePort()), "-m", fmt.Sprint(n), "-l", fmt.Sprint(n), "-r", fmt.Sprint(rate),
		"-d", fmt.Sprint(hold.Milliseconds()), "-nostdin"}
	cmd := exec.CommandContext(ctx, "sipp", append(args, extra...)...)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "caller.out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	c := &Callers{cmd: cmd, Started: time.Now(), pace: time.Duration(n/rate+1) * time.Second, hold: hold}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, err
	}
	return c, nil
}

// Steady samples process pid across the steady state: from settle after the last call was
// placed (every call up) to settle before the first one ends.
func (c *Callers) Steady(pid int, settle time.Duration) (from, to ProcSample, err error) {
	window := c.hold - c.pace - 2*settle
	if window < 5*time.Second {
		return from, to, fmt.Errorf("hold %s too short for the ramp of %s", c.hold, c.pace)
	}
	time.Sleep(time.Until(c.Started.Add(c.pace + settle)))
	if from, err = Sample(pid); err != nil {
		return from, to, err
	}
	time.Sleep(window)
	to, err = Sample(pid)
	return from, to, err
}

// Wait waits for sipp to end and returns its exit error.
func (c *Callers) Wait() error { return c.cmd.Wait() }

// Gateway is the gateway binary serving a benchmark's config.
type Gateway struct {
	cmd *exec.Cmd
	// Pid is the gateway process's, for Sample.
	Pid int
}

// StartGateway writes cfg to dir/gw.yaml, starts bin serving it (its log in
// dir/gateway.log) and waits until its HTTP listener httpAddr answers.
func StartGateway(ctx context.Context, bin, dir, cfg, httpAddr string) (*Gateway, error) {
	conf := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", conf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	g := &Gateway{cmd: cmd, Pid: cmd.Process.Pid}
	if err := WaitHTTP(httpAddr, 30*time.Second); err != nil {
		g.Stop()
		return nil, err
	}
	return g, nil
}

// Stop ends the gateway and waits for it: the first signal starts its drain, the second
// ends the calls still up.
func (g *Gateway) Stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	_ = g.cmd.Wait()
}
