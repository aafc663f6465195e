package asrtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/asr/asrtest/standin"
)

// Faulter is a stand-in server that can be told to fail its next connections.
type Faulter interface {
	Fail(...standin.Plan)
}

// RunFaults is the bad-engine suite for a network adapter and its stand-in. For each fault
// (drop, early close, garbage, hang) planned on the first connection after `after` of
// audio:
//   - the bare adapter (raw) must end the stream with an error — never hang, panic or end
//     as if all were well with a silent, empty transcript;
//   - the adapter behind the resilience wrapper (wrapped) must recover the complete
//     transcript, every word once.
//
// The adapters under test need short flush/reply timeouts, or the hang case takes long.
func RunFaults(t *testing.T, raw, wrapped func(t *testing.T) asr.Engine, fx Fixture, srv Faulter, after time.Duration) {
	frames, err := fx.Load()
	require.NoError(t, err)
	k := kit{fx: fx, frames: frames, o: options{cfg: asr.StreamConfig{Partials: true, SampleRate: frames[0].Rate}}}
	for _, f := range []standin.Fault{standin.Drop, standin.CloseEarly, standin.Garbage, standin.Hang} {
		t.Run(fmt.Sprintf("raw-%s", f), func(t *testing.T) {
			faults := faultCount(srv)
			srv.Fail(standin.Plan{Fault: f, After: after})
			e := raw(t)
			defer e.Close()
			s, err := e.NewStream(context.Background(), k.o.cfg)
			require.NoError(t, err)
			got := Collect(t, s)
			for _, fr := range frames {
				if s.Write(fr) != nil {
					break // the failure may surface here
				}
			}
			// the kit writes faster than real time: end the stream only once the fault
			// has happened, so that it lands mid-stream and not after the end of stream
			// (where a normal close may be the protocol's own end)
			awaitFault(t, srv, faults)
			cerr := s.Close()
			rs := wait(t, got)
			k.checkOrder(t, rs)
			var errs []error
			errs = append(errs, cerr)
			if e, ok := s.(interface{ Err() error }); ok {
				errs = append(errs, e.Err())
			}
			require.True(t, errs[0] != nil || len(errs) > 1 && errs[1] != nil,
				"a %s engine must end the stream with an error; results:\n%s", f, Describe(rs))
		})
		t.Run(fmt.Sprintf("recovers-%s", f), func(t *testing.T) {
			faults := faultCount(srv)
			srv.Fail(standin.Plan{Fault: f, After: after})
			e := wrapped(t)
			defer e.Close()
			s, err := e.NewStream(context.Background(), k.o.cfg)
			require.NoError(t, err)
			got := Collect(t, s)
			for _, fr := range frames {
				require.NoError(t, s.Write(fr))
			}
			awaitFault(t, srv, faults)
			require.NoError(t, s.Close())
			k.checkResults(t, wait(t, got))
		})
	}
}

// faultCounter is a stand-in that counts the faults it carried out (standin.Server).
type faultCounter interface{ Faults() int }

func faultCount(srv Faulter) int {
	if fc, ok := srv.(faultCounter); ok {
		return fc.Faults()
	}
	return 0
}

// awaitFault waits until srv has carried out more than before faults, when it counts them.
func awaitFault(t *testing.T, srv Faulter, before int) {
	fc, ok := srv.(faultCounter)
	if !ok {
		return
	}
	deadline := time.Now().Add(guard)
	for fc.Faults() <= before {
		if time.Now().After(deadline) {
			require.FailNow(t, "the planned fault never happened")
		}
		time.Sleep(time.Millisecond)
	}
}
