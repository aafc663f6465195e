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
)

// Watch dials each configured network engine now and then, so an engine that is down
// (at start-up or later) shows at once on the wallboard and in /healthz as a failing part,
// logged once per change, instead of being discovered by the first call that needs it.
type Watch struct {
	urls   map[string]string // engine name → URL
	every  time.Duration
	report func(component string, err error)

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// NewWatch starts the watch of every network engine of c that has a URL, reporting each
// one's reachability every so often; Close stops it.
func NewWatch(c Config, every time.Duration, report func(string, error)) *Watch {
	w := &Watch{urls: map[string]string{}, every: every, report: report}
	for name, section := range c.Engines {
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
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := Dial(dctx, w.urls[n])
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
