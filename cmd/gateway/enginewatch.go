package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// engineWatch dials each configured network engine now and then, so an engine that is down
// (at start-up or later) shows at once on the wallboard and in /healthz as a failing part,
// logged once per change, instead of being discovered by the first call that needs it.
type engineWatch struct {
	urls   map[string]string // engine name → URL
	every  time.Duration
	report func(component string, err error)

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// watchEngines starts the watch of every network engine that has a URL; Close stops it.
func watchEngines(cfg Config, every time.Duration, report func(string, error)) *engineWatch {
	w := &engineWatch{urls: map[string]string{}, every: every, report: report}
	for name, section := range cfg.ASR.Engines {
		if u, ok := section["url"].(string); ok && u != "" {
			w.urls[name] = u
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
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := dialOnly(dctx, w.urls[n])
			cancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				err = fmt.Errorf("cannot reach %s: %w", w.urls[n], err)
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

// Close stops the watch and waits for it; it is idempotent.
func (w *engineWatch) Close() error {
	w.stop()
	w.wg.Wait()
	return nil
}
