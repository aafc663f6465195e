package engines

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sort"
	"sync"
	"time"

	"lianxin/asr"
	"lianxin/asr/resilient"
)

// Watch dials each configured network engine now and then, so an engine that is down
// (at start-up or later) shows at once on the wallboard and in /healthz as a failing part,
// logged once per change, instead of being discovered by the first call that needs it.
// An engine that can check its configuration with its server (asr.Checker: the
// OpenAI-compatible HTTP engine, whose model or word times the server may refuse) is
// checked instead of dialled, so a refused setting shows the same way, with the server's
// words, from the watch's first round at start-up.
type Watch struct {
	urls   map[string]string // engine name → URL
	checks map[string]asr.Checker
	every  time.Duration
	report func(component string, err error)

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// NewWatch starts the watch of every network engine of c that has a URL, reporting each
// one's reachability (or, for an engine of reg that checks itself, its server's verdict on
// its configuration) every so often; Close stops it. reg may be nil.
func NewWatch(c Config, every time.Duration, report func(string, error), reg *asr.Registry) *Watch {
	w := &Watch{urls: map[string]string{}, checks: map[string]asr.Checker{}, every: every, report: report}
	for name, section := range c.Engines {
		if u, ok := section["url"].(string); ok && u != "" {
			w.urls[name] = u
		}
		if reg == nil {
			continue
		}
		if e, err := reg.Get(name); err == nil {
			if ch, ok := checker(e); ok {
				w.checks[name] = ch
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

func (w *Watch) run(ctx context.Context) {
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
func (w *Watch) check(ctx context.Context, name string) error {
	if c, ok := w.checks[name]; ok {
		cctx, cancel := context.WithTimeout(ctx, 25*time.Second)
		defer cancel()
		return c.Check(cctx)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := Dial(dctx, w.urls[name]); err != nil {
		return fmt.Errorf("cannot reach %s: %w", w.urls[name], err)
	}
	return nil
}

// checker finds an engine's check under the name and the resilience wrapper Build puts
// around it.
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
func (w *Watch) Close() error {
	w.stop()
	w.wg.Wait()
	return nil
}

// Dial opens and closes a TCP (and, for wss/https, TLS) connection to the URL's host:
// it separates "cannot reach" and "TLS" from the protocol's own failures, and times them.
func Dial(ctx context.Context, raw string) (time.Duration, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, err
	}
	secure := u.Scheme == "wss" || u.Scheme == "https"
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[bool]string{true: "443", false: "80"}[secure])
	}
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if secure {
		tc := tls.Client(c, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true}) // #nosec G402 -- only reachability; the engine's own dial verifies
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, fmt.Errorf("TLS handshake with %s: %w", host, err)
		}
	}
	return time.Since(start), nil
}
