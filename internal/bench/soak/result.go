package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-audio/wav"

	"lianxin/internal/bench/benchkit"
	"lianxin/store"
)

// result is what a soak found.
type result struct {
	started     time.Time
	sippCreated int
	sippErr     error
	memory      []benchkit.ProcSample

	records, answered, refused, abandoned int
	lost, missing, eventsMissing, unplay  int
	examples                              []string
}

// check compares what sipp placed with what the gateway stored, showed and recorded.
func (s *soak) check(ctx context.Context, res *result) error {
	st, err := store.OpenSQLite(ctx, filepath.Join(s.dir, "data", "lianxin.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	calls, err := st.Calls(ctx, store.CallFilter{Limit: 1 << 30})
	if err != nil {
		return err
	}
	res.records = len(calls)
	res.missing = max(0, res.sippCreated-len(calls))
	for _, c := range calls {
		switch c.Outcome {
		case "answered":
			res.answered++
		case "failed":
			res.refused++
		case "abandoned":
			res.abandoned++
		}
		if c.EndedAt == nil {
			res.lost++
			res.note("call %s never ended", c.ID)
		}
		if offered, ended := s.screen.saw(c.ID); !offered || !ended {
			res.eventsMissing++
			res.note("call %s: screen saw offered=%v ended=%v", c.ID, offered, ended)
		}
		if c.Outcome == "answered" && !playable(filepath.Join(s.dir, "data", "recordings", c.OfferedAt.Local().Format("2006-01-02"), c.ID+".wav")) {
			res.unplay++
			res.note("call %s: recording unplayable", c.ID)
		}
	}
	return nil
}

func (r *result) note(format string, args ...any) {
	if len(r.examples) < 10 {
		r.examples = append(r.examples, fmt.Sprintf(format, args...))
	}
}

// playable reports whether a recording decodes with at least a second of audio.
func playable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	if !d.IsValidFile() {
		return false
	}
	dur, err := d.Duration()
	return err == nil && dur >= time.Second
}

// growth is the memory growth from the first third of the run to the last third
// (medians), as a fraction.
func (r *result) growth() float64 {
	n := len(r.memory)
	if n < 6 {
		return 0
	}
	med := func(ps []benchkit.ProcSample) float64 {
		v := make([]float64, len(ps))
		for i, p := range ps {
			v[i] = float64(p.RSS)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return med(r.memory[2*n/3:])/med(r.memory[:n/3]) - 1
}

func (r *result) ok() bool {
	return r.sippErr == nil && r.lost == 0 && r.missing == 0 && r.eventsMissing == 0 && r.unplay == 0 && r.growth() < 0.25
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "| minutes | calls placed | records | answered | refused (queue) | abandoned | calls lost | records missing | events missing | recordings unplayable | memory growth |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| %.0f | %d | %d | %d | %d | %d | %d | %d | %d | %d | %+.1f%% |\n", time.Since(r.started).Minutes(),
		r.sippCreated, r.records, r.answered, r.refused, r.abandoned, r.lost, r.missing, r.eventsMissing, r.unplay, 100*r.growth())
	fmt.Fprintf(w, "\nmemory (RSS) over time:")
	for _, p := range r.memory {
		fmt.Fprintf(w, " %.1fmin:%.0fMiB", p.At.Sub(r.started).Minutes(), float64(p.RSS)/(1<<20))
	}
	fmt.Fprintln(w)
	if r.sippErr != nil {
		fmt.Fprintln(w, "sipp caller:", r.sippErr)
	}
	for _, e := range r.examples {
		fmt.Fprintln(w, " -", e)
	}
}

// sippCreated reads the calls sipp created from the last line of its -trace_stat file.
func sippCreated(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0, errors.New("sipp stat file has no rows")
	}
	head, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if h == "TotalCallCreated" && i < len(last) {
			return strconv.Atoi(last[i])
		}
	}
	return 0, errors.New("sipp stat file has no TotalCallCreated")
}
