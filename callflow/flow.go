// Package callflow owns each call from its arrival to its hang-up: queueing the caller
// with early media, ringing seats, bridging and recording the audio, live transcription
// with its fallbacks, and what the screens are told. It reaches signalling, seats and
// screens only through the small interfaces in ports.go, so it runs the same over SIP
// phones, browsers or test doubles.
package callflow

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lianxin/asr"
	"lianxin/media"
)

// Config is the call flow's behaviour.
type Config struct {
	// RingTimeout is how long a seat rings before the call goes to the next one.
	RingTimeout time.Duration
	// AnswerTimeout bounds the wait for the caller to confirm the answer (the SIP ACK):
	// a caller that vanished must not hold the agent who answered (default 4 s).
	AnswerTimeout time.Duration
	// InactivityTimeout ends a bridged call when neither side sends RTP for this long.
	InactivityTimeout time.Duration
	// Jitter is the tap window that reorders late packets for the recorder and recogniser.
	Jitter time.Duration
	// MediaIP is the address RTP legs bind to and advertise.
	MediaIP netip.Addr
	// Ports hands out RTP ports.
	Ports *media.PortAllocator
	// HoldMusic is played to queued callers (8 kHz PCM, looped).
	HoldMusic []int16
	// ProbeInterval is how often a queued caller who has sent no RTP is probed (when its
	// Caller is a Prober); two unanswered probes in a row end the call (default 20 s,
	// negative never probes).
	ProbeInterval time.Duration
	// EarlyMediaGrace is how long the hold sound goes to a caller's SDP address before the
	// caller's own RTP proves the address is theirs (default 2 s).
	EarlyMediaGrace time.Duration
	// EarlyMediaPerAddress caps the unproven early-media streams toward one IP address
	// (default 4).
	EarlyMediaPerAddress int
	// RecordDir is where stereo recordings go, under a folder per day; empty records nothing.
	RecordDir string
	// Language is a line's recognition language.
	Language func(line string) string
	// Hotwords bias every stream.
	Hotwords []string
	// Survey says whether a line's callers are asked how satisfied they were when the agent
	// hangs up first; nil asks no one.
	Survey func(line string) bool
	// SurveyQuestion and SurveyThanks are the survey's prompts (8 kHz PCM); nil plays the
	// built-in ones.
	SurveyQuestion, SurveyThanks []int16
	// SurveyTimeout is how long a key is waited for after the question (default 5 s).
	SurveyTimeout time.Duration
	// DelayedRetry is how often transcription from the recording after the call asks the
	// engine again while it is down or at its stream limit (default 5 s).
	DelayedRetry time.Duration
	// G722 offers seats G.722 first: a desk phone that takes it gives the recogniser its
	// agent at 16 kHz (the relay transcodes for the caller's G.711).
	G722 bool
	// RTCPInterval is the mean time between a leg's RTCP reports, and how often a call's
	// quality is rated (default media.DefaultRTCPInterval).
	RTCPInterval time.Duration
	// PoorQuality says when a call's audio is poor (callflow/quality.go).
	PoorQuality QualityThresholds
}

// Deps are the flow's collaborators. Observer, Sink and ASR are optional: without ASR
// there is no live transcription.
type Deps struct {
	Queue      Queue
	Phones     SeatPhone
	Observer   Observer
	Sink       TranscriptSink
	ASR        Recognisers
	Metrics    *media.Metrics
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// Health is told at once when a part the flow uses fails ("recording": a full disk) and
	// when it works again (err nil).
	Health func(component string, err error)
}

// Flow runs calls. Create it with New; Close it when the gateway stops.
type Flow struct {
	cfg    Config
	deps   Deps
	m      *metrics
	agents *agentLegs
	early  *earlyLimits
	clock  *media.Clock

	// stop ends every call with ErrShutdown.
	stop    context.Context
	stopNow context.CancelCauseFunc
	// calls are the running handlers; bg the work that outlives a call (transcribing a
	// leg from its recording).
	calls, bg sync.WaitGroup
	once      sync.Once
}

// New builds a flow.
func New(cfg Config, deps Deps) (*Flow, error) {
	if deps.Queue == nil || deps.Phones == nil || cfg.Ports == nil {
		return nil, errors.New("callflow: a queue, seat phones and a port allocator are required")
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	if deps.Health == nil {
		deps.Health = func(string, error) {}
	}
	if deps.Sink == nil {
		deps.Sink = nopSink{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	if cfg.Language == nil {
		cfg.Language = func(string) string { return "" }
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 15 * time.Second
	}
	if cfg.Survey == nil {
		cfg.Survey = func(string) bool { return false }
	}
	if cfg.SurveyTimeout <= 0 {
		cfg.SurveyTimeout = 5 * time.Second
	}
	if cfg.SurveyQuestion == nil || cfg.SurveyThanks == nil {
		q, th, err := BuiltinPrompts()
		if err != nil {
			return nil, fmt.Errorf("callflow: built-in prompts: %w", err)
		}
		if cfg.SurveyQuestion == nil {
			cfg.SurveyQuestion = q
		}
		if cfg.SurveyThanks == nil {
			cfg.SurveyThanks = th
		}
	}
	if cfg.DelayedRetry <= 0 {
		cfg.DelayedRetry = 5 * time.Second
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = 4 * time.Second
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 20 * time.Second
	}
	if cfg.EarlyMediaGrace <= 0 {
		cfg.EarlyMediaGrace = 2 * time.Second
	}
	if cfg.EarlyMediaPerAddress <= 0 {
		cfg.EarlyMediaPerAddress = 4
	}
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = media.DefaultRTCPInterval
	}
	cfg.PoorQuality = cfg.PoorQuality.withDefaults()
	f := &Flow{cfg: cfg, deps: deps, m: newMetrics(deps.Registerer), agents: newAgentLegs(deps.Registerer),
		early: &earlyLimits{max: cfg.EarlyMediaPerAddress, n: map[netip.Addr]int{}}, clock: media.NewClock()}
	f.stop, f.stopNow = context.WithCancelCause(context.Background())
	return f, nil
}

// Handle owns one call from its arrival to its end; it returns when the call is over.
func (f *Flow) Handle(in Inbound) {
	f.calls.Add(1)
	defer f.calls.Done()
	c := f.newCall(in)
	f.deps.Observer.CallArrived(&c.Info)
	if f.stop.Err() != nil {
		_ = in.Caller.Reject(RejectUnavailable)
		c.end(Failed, ErrShutdown)
		return
	}
	c.run()
}

// Close ends every call now, waits for the handlers and for the work they left behind,
// and stops the media clock. It is idempotent.
func (f *Flow) Close() error {
	f.once.Do(func() {
		f.stopNow(ErrShutdown)
		f.calls.Wait()
		f.bg.Wait()
		f.clock.Close()
	})
	return nil
}

func (f *Flow) newCallID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return f.deps.Now().UTC().Format("20060102-150405-") + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])[:8])
}

type metrics struct {
	offered, answered, abandoned, failed *prometheus.CounterVec
	talk                                 prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"line"})
	}
	m := &metrics{
		offered:   vec("lianxin_calls_offered_total", "Calls that reached the gateway."),
		answered:  vec("lianxin_calls_answered_total", "Calls a seat answered."),
		abandoned: vec("lianxin_calls_abandoned_total", "Calls the caller left before a seat answered."),
		failed:    vec("lianxin_calls_failed_total", "Calls that ended with a failure status (queue timeout, no media port…)."),
		talk: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lianxin_talk_seconds",
			Help: "Talk time of answered calls.", Buckets: []float64{10, 30, 60, 120, 180, 300, 600, 1200, 1800}}),
	}
	reg.MustRegister(m.offered, m.answered, m.abandoned, m.failed, m.talk)
	return m
}

type nopObserver struct{}

func (nopObserver) CallArrived(*Info)               {}
func (nopObserver) CallOffered(*Info)               {}
func (nopObserver) CallAnswered(*Info)              {}
func (nopObserver) CallEnded(*Info, Outcome, error) {}
func (nopObserver) DTMF(*Info, string, rune)        {}
func (nopObserver) CallQuality(*Info, CallQuality)  {}

type nopSink struct{}

func (nopSink) Result(*Info, string, asr.Result, bool) {}
func (nopSink) StreamFailed(*Info, string, error)      {}
