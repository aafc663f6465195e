package asrtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/standin"
	"lianxin/asr/resilient"
)

// StandIn is an in-repo server that speaks an engine's wire protocol for the kit: it can
// fail connections on request, be killed mid-stream, and reports the protocol rules a
// client broke.
type StandIn interface {
	Faulter
	Kill()
	Violations() []string
	// Received is the audio the latest session heard, decoded at the rate the stand-in
	// decodes it.
	Received() standin.Audio
}

// Adapter is a network engine and its stand-in, for RunAdapter.
type Adapter struct {
	// New makes the engine, pointed at the stand-in, sending audio at rate (0 when the
	// engine has no rate setting). It needs short flush and reply timeouts.
	New func(rate int) (asr.Engine, error)
	// Rates are the rates the engine is proven at on its own, fed 8 kHz audio (default 8000).
	Rates []int
	// ResilientRate is the rate of the engine behind the resilience layer, and of the
	// audio fed to it (default 8000).
	ResilientRate int
	Server        StandIn
	// Paced feeds the wrapped engine in ClosesWithoutFinal at real-time pace: for an
	// engine that gives no times, whose adapter estimates them from the audio sent so far
	// (an estimate that holds only while audio goes at the pace it is spoken), so that the
	// wrapper's replay starts where the lost utterance did.
	Paced bool
}

// RunAdapter is the whole kit for a network adapter: the conformance suite at each rate
// and behind the resilience layer (with the stand-in killed mid-stream), then the fault
// suite (RunFaults, faults after 1.5 s of audio), a server that closes without its final
// (ClosesWithoutFinal) and 8 kHz legs offered at every rate (EightKHzLegs); the stand-in
// must have seen no protocol violation.
func RunAdapter(t *testing.T, a Adapter) {
	if len(a.Rates) == 0 {
		a.Rates = []int{8000}
	}
	if a.ResilientRate == 0 {
		a.ResilientRate = 8000
	}
	raw := func(rate int) func(t *testing.T) asr.Engine {
		return func(t *testing.T) asr.Engine { return a.Engine(t, rate) }
	}
	for _, rate := range a.Rates {
		t.Run(fmt.Sprintf("conformance-%d", rate), func(t *testing.T) {
			Run(t, raw(rate), DefaultToneFixture(8000))
		})
	}
	t.Run("conformance-resilient", func(t *testing.T) {
		Run(t, a.Wrapped, DefaultToneFixture(a.ResilientRate), WithKill(a.Server.Kill))
	})
	t.Run("faults", func(t *testing.T) {
		RunFaults(t, raw(a.Rates[0]), a.Wrapped, DefaultToneFixture(8000), a.Server, 1500*time.Millisecond)
	})
	t.Run("closes-without-final", a.ClosesWithoutFinal)
	t.Run("8khz-legs", a.EightKHzLegs)
	require.Empty(t, a.Server.Violations())
}

// Engine is the adapter's engine at rate; t fails if it cannot be made.
func (a Adapter) Engine(t *testing.T, rate int) asr.Engine {
	t.Helper()
	e, err := a.New(rate)
	require.NoError(t, err)
	return e
}

// Wrapped is the engine at ResilientRate behind the resilience layer, with millisecond
// backoff.
func (a Adapter) Wrapped(t *testing.T) asr.Engine {
	t.Helper()
	rate := a.ResilientRate
	if rate == 0 {
		rate = 8000
	}
	e, err := resilient.Wrap(a.Engine(t, rate), resilient.Config{Backoff: resilient.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	require.NoError(t, err)
	return e
}
