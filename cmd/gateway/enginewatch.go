package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"lianxin/asr"
	"lianxin/asr/resilient"
)

// engineWatch dials each configured network engine now and then, so an engine that is down
// (at start-up or later) shows at once on the wallboard and in /healthz as a failing part,
// logged once per change, instead of being discovered by the first call that needs it.
// An engine that can check its configuration with its server (asr.Checker: the
// OpenAI-compatible HTTP engine, whose model or word times the server may refuse) is
// checked instead of dialled.
type engineWatch struct {
	urls   map[string]string // engine name → URL
	checks map[string]asr.Checker
	every  time.Duration
	report func(component string, err error)

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// watchEngines starts the watch of every network engine that has a URL; Close stops it.
// reg, when given, supplies the engines that can check themselves.
func watchEngines(cfg Config, every time.Duration, report func(string, error), reg *asr.Registry) *engineWatch {
	w := &engineWatch{urls: map[string]string{}, checks: map[string]asr.Checker{}, every: every, report: report}
	for name, section := range cfg.ASR.Engines {
		if u, ok := section["url"].(string); ok && u != "" {
			w.urls[name] = u
		}
		if reg == nil {
			continue
		}
		if e, err := reg.Get(name); err == nil {
			if c, ok := checker(e); ok {
				w.checks[name] = c
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	if len(w.urls) > 0 {
		w.wg.Add(1)
		go w.run(ctx)
	}
	return w
}

func (w *engineWatch) run(ctx context.Context) {
	defer w.wg.Done()
	names := make([]string, 0, len(w.urls))
	for n := range w.urls {
		names = append(names, n)
	}
	sort.Strings(names)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		for _, n := range names {
			err := w.check(ctx, n)
			if ctx.Err() != nil {
				return
			}
			w.report("asr "+n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check asks the engine's server whether it takes the configuration, or dials it.
func (w *engineWatch) check(ctx context.Context, name string) error {
	if c, ok := w.checks[name]; ok {
		cctx, cancel := context.WithTimeout(ctx, 25*time.Second)
		defer cancel()
		return c.Check(cctx)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := dialOnly(dctx, w.urls[name]); err != nil {
		return fmt.Errorf("cannot reach %s: %w", w.urls[name], err)
	}
	return nil
}

// checker finds an engine's check under the names and wrappers the gateway puts around it.
func checker(e asr.Engine) (asr.Checker, bool) {
	for {
		if c, ok := e.(asr.Checker); ok {
			return c, true
		}
		switch w := e.(type) {
		case named:
			e = w.Engine
		case *resilient.Engine:
			e = w.Unwrap()
		default:
			return nil, false
		}
	}
}

// Close stops the watch and waits for it; it is idempotent.
func (w *engineWatch) Close() error {
	w.stop()
	w.wg.Wait()
	return nil
}
