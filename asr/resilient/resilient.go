// Package resilient wraps a network engine so that a call's transcript survives the
// engine: a dropped connection is re-opened with exponential backoff and jitter, and the
// audio no final result has covered yet — kept in a ring buffer, 30 s by default — is
// replayed to the new connection, with result times rebased onto the stream's own clock,
// so an engine restart mid-call loses no words. A stream that cannot recover marks the
// span it lost with a Gap result and goes on. Connections are rotated before an engine's
// session limit. Write never blocks: frames queue up to a bound and beyond it are dropped
// and counted.
package resilient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/asr"
)

// GapText is the text of a Gap result.
const GapText = "[transcription gap]"

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("resilient: stream closed")

// Clock is the time source (timers and timestamps); tests inject a fake.
type Clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Backoff is the reconnect schedule: Initial·Multiplier^n, capped at Max, with ±Jitter
// (a fraction) of randomness so that 60 seats do not reconnect in lockstep.
type Backoff struct {
	Initial    time.Duration `yaml:"initial"`
	Max        time.Duration `yaml:"max"`
	Multiplier float64       `yaml:"multiplier"`
	Jitter     float64       `yaml:"jitter"`
}

// Delay is the wait before attempt n (1-based) given a uniform random number in [0,1).
func (b Backoff) Delay(n int, rnd float64) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(max(0, n-1)))
	d = min(d, float64(b.Max))
	d *= 1 + b.Jitter*(2*rnd-1)
	return time.Duration(max(0, d))
}

// Config tunes the wrapper. Zero fields take the defaults noted.
type Config struct {
	// Ring is how much audio not yet covered by a final is kept for replay (30 s).
	Ring time.Duration `yaml:"ring"`
	// Queue is how many frames may wait for a slow engine before frames are dropped (1500,
	// 30 s of 20 ms frames).
	Queue int `yaml:"queue"`
	// Backoff between reconnects (200 ms doubling to 10 s, ±30 %).
	Backoff Backoff `yaml:"backoff"`
	// Attempts is how many reconnects Close tries before the audio it still holds is
	// given up as a gap (5). During the call the stream keeps trying; audio that falls out
	// of the ring meanwhile becomes a gap.
	Attempts int `yaml:"attempts"`
	// MaxSession is the engine's session limit (0: none). Connections rotate at the first
	// final after MaxSession-RotateEarly of audio, and unconditionally at MaxSession-5 s.
	MaxSession  time.Duration `yaml:"max_session"`
	RotateEarly time.Duration `yaml:"rotate_early"`
	// Metrics, shared between wrappers (nil: unregistered collectors).
	Metrics *Metrics       `yaml:"-"`
	Clock   Clock          `yaml:"-"`
	Rand    func() float64 `yaml:"-"`
	Logger  *slog.Logger   `yaml:"-"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Ring == 0 {
		c.Ring = 30 * time.Second
	}
	if c.Queue == 0 {
		c.Queue = 1500
	}
	if c.Backoff == (Backoff{}) {
		c.Backoff = Backoff{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.3}
	}
	if c.Backoff.Multiplier < 1 {
		c.Backoff.Multiplier = 1
	}
	if c.Attempts == 0 {
		c.Attempts = 5
	}
	if c.RotateEarly == 0 {
		c.RotateEarly = 30 * time.Second
	}
	if c.MaxSession > 0 && c.MaxSession <= c.RotateEarly {
		return c, fmt.Errorf("resilient: max_session %v must exceed rotate_early %v", c.MaxSession, c.RotateEarly)
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		m, err := NewMetrics(nil)
		if err != nil {
			return c, err
		}
		c.Metrics = m
	}
	return c, nil
}

// Engine is a wrapped engine.
type Engine struct {
	inner asr.Engine
	cfg   Config
	m     metrics
}

// metrics are the collectors curried with this engine's label.
type metrics struct {
	reconnects, rotations, replayed, dropped, gaps, gapSeconds, errors prometheus.Counter
	lag                                                                prometheus.Observer
}

// Wrap returns inner made resilient.
func Wrap(inner asr.Engine, cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, l := cfg.Metrics, prometheus.Labels{"engine": inner.Name()}
	return &Engine{inner: inner, cfg: cfg, m: metrics{
		reconnects: m.reconnects.With(l), rotations: m.rotations.With(l), replayed: m.replayed.With(l),
		dropped: m.dropped.With(l), gaps: m.gaps.With(l), gapSeconds: m.gapSeconds.With(l),
		errors: m.errors.With(l), lag: m.lag.With(l),
	}}, nil
}

// Name is the inner engine's name.
func (e *Engine) Name() string { return e.inner.Name() }

// String describes the chain.
func (e *Engine) String() string { return fmt.Sprintf("Resilient(%s)", e.inner.Name()) }

// Unwrap is the engine the wrapper makes resilient.
func (e *Engine) Unwrap() asr.Engine { return e.inner }

// Close closes the inner engine.
func (e *Engine) Close() error { return e.inner.Close() }

// NewStream opens the first connection; its failure (a stream limit, an engine that is
// down at the start of the call) is returned so that the caller can fall back. Failures
// after that are the wrapper's to handle.
func (e *Engine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	s := newStream(ctx, e, cfg)
	if err := s.connect(); err != nil {
		s.cancel(err)
		return nil, err
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}
