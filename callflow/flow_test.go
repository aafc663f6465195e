package callflow

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"lianxin/internal/testpeer"
	"lianxin/media"
	"lianxin/seat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type testFlow struct {
	*Flow
	acd    *seat.ACD
	phones *fakePhones
	obs    *recorder
}

// newTestFlow runs a flow on a real ACD whose seats are all registered, test doubles for
// the dialogs and real RTP legs on loopback.
func newTestFlow(t *testing.T, seats []string, answer map[string]float64, mutate func(*Config, *seat.Config)) *testFlow {
	t.Helper()
	scfg := seat.Config{Seats: seats, MaxWait: 5 * time.Second}
	base := testpeer.FreeUDPPorts(t, 16)
	cfg := Config{RingTimeout: 300 * time.Millisecond, InactivityTimeout: 5 * time.Second, Jitter: 20 * time.Millisecond,
		MediaIP: netip.MustParseAddr("127.0.0.1"), Ports: media.NewPortAllocator(media.PortRange{Min: base, Max: base + 15}),
		HoldMusic: make([]int16, 8000), RecordDir: t.TempDir()}
	if mutate != nil {
		mutate(&cfg, &scfg)
	}
	reg := prometheus.NewRegistry()
	acd, err := seat.New(scfg, seat.Options{Metrics: seat.NewMetrics(reg)})
	require.NoError(t, err)
	for _, s := range seats {
		require.NoError(t, acd.SetRegistered(s, true))
	}
	tf := &testFlow{acd: acd, phones: &fakePhones{t: t, answer: answer}, obs: newObserver()}
	tf.Flow, err = New(cfg, Deps{Queue: acd, Phones: tf.phones, Observer: tf.obs, Metrics: media.NewMetrics(reg),
		Registerer: reg})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, tf.Close())
		require.NoError(t, tf.Close(), "Close is idempotent")
		require.NoError(t, acd.Close())
	})
	return tf
}

// handle runs one call on its own goroutine, the way the SIP server does.
func (tf *testFlow) handle(t *testing.T, c Caller) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tf.Handle(Inbound{Caller: c, SIPCallID: "sip-1", Line: "12345", From: "13800000000"})
	}()
	t.Cleanup(func() { <-done })
	return done
}

// requireTone checks that x is the tone want and holds nothing of the tone not.
func requireTone(t *testing.T, x []int16, want, not float64, what string) {
	t.Helper()
	w, n := toneLevel(x, want), toneLevel(x, not)
	require.Greater(t, w, 0.1, "%s: %.0f Hz at %.2f of the power", what, want, w)
	require.Greater(t, w, 20*n, "%s: %.0f Hz at %.3f beside %.0f Hz at %.3f", what, want, w, not, n)
}

// The caller reaches the seat: each hears the other, the recording holds the caller on
// the left and the agent on the right, and the caller's hang-up completes the call and
// frees the seat.
func TestCallIsBridgedAndRecorded(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, nil)
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)

	var sc *fakeSeatCall
	require.Eventually(t, func() bool {
		sc = tf.phones.call("seat-01")
		return sc != nil && len(sc.peer.received()) > 16000
	}, 10*time.Second, 20*time.Millisecond, "two seconds of audio reach the seat")
	requireTone(t, sc.peer.received()[8000:], 1000, 400, "the seat hears the caller")
	heard := caller.peer.received()
	requireTone(t, heard[len(heard)-8000:], 400, 1000, "the caller hears the seat")

	caller.hangUp(errors.New("caller hung up"))
	e := tf.obs.waitEnded(t)
	<-done
	require.Equal(t, Completed, e.outcome)
	require.ErrorContains(t, e.cause, "caller hung up")
	require.Equal(t, "seat-01", e.info.Seat)
	require.False(t, e.info.Answered.IsZero())
	_, answered, _, rejected := caller.state()
	require.True(t, answered)
	require.Zero(t, rejected)
	require.True(t, sc.byed, "the seat's dialog is hung up")
	require.Equal(t, seat.Available, tf.acd.States()["seat-01"], "no wrap-up configured: the seat is free again")

	// A loaded machine leaves gaps in the tones (late packets), which spread some energy;
	// each channel must still be its own side's tone, with none of the other's.
	left, right := channels(t, e.info.Recording)
	requireTone(t, left[len(left)/2:], 1000, 400, "left channel: the caller")
	requireTone(t, right[len(right)/2:], 400, 1000, "right channel: the agent")
}

// SRTP legs are encrypted end to end of each leg: an SRTP caller and an SRTP seat hear
// each other (their peers decrypt with the legs' keys and drop what fails), from the
// early media on, and the recording holds both.
func TestSRTPCallIsBridgedAndRecorded(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, nil)
	tf.phones.srtp = true
	caller := &fakeCaller{peer: newSRTPPeer(t, 1000)}
	caller.ctx, caller.hangUp = context.WithCancelCause(context.Background())
	t.Cleanup(func() { caller.hangUp(errors.New("test over")) })
	done := tf.handle(t, caller)

	var sc *fakeSeatCall
	require.Eventually(t, func() bool {
		sc = tf.phones.call("seat-01")
		return sc != nil && len(sc.peer.received()) > 16000
	}, 10*time.Second, 20*time.Millisecond, "two seconds of audio reach the seat")
	requireTone(t, sc.peer.received()[8000:], 1000, 400, "the seat hears the caller")
	heard := caller.peer.received()
	requireTone(t, heard[len(heard)-8000:], 400, 1000, "the caller hears the seat")
	caller.hangUp(errors.New("caller hung up"))
	e := tf.obs.waitEnded(t)
	<-done
	require.Equal(t, Completed, e.outcome)
	left, right := channels(t, e.info.Recording)
	requireTone(t, left[len(left)/2:], 1000, 400, "left channel: the caller")
	requireTone(t, right[len(right)/2:], 400, 1000, "right channel: the agent")
}

// A seat whose phone refuses at once (busy, or no SRTP where its policy requires it) gives
// way to the next seat at once; when it is the only one, it is offered the call again
// only a ring timeout later, not in a tight loop.
func TestRefusingSeatIsNotOfferedAgainAtOnce(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01", "seat-02"}, map[string]float64{"seat-02": 400}, nil)
	tf.phones.refuse = map[string]bool{"seat-01": true}
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.phones.call("seat-02") != nil }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"seat-01", "seat-02"}, tf.phones.rungSeats())
	caller.hangUp(errors.New("caller hung up"))
	<-done

	alone := newTestFlow(t, []string{"seat-01"}, nil, nil)
	alone.phones.refuse = map[string]bool{"seat-01": true}
	caller = newFakeCaller(t, 1000)
	done = alone.handle(t, caller)
	require.Eventually(t, func() bool { return len(alone.phones.rungSeats()) >= 3 }, 10*time.Second, 10*time.Millisecond)
	caller.hangUp(errors.New("caller gave up"))
	<-done
	at := alone.phones.rungAt()
	for i := 1; i < len(at); i++ {
		require.GreaterOrEqual(t, at[i].Sub(at[i-1]), 300*time.Millisecond, "ring %d came a ring timeout after the refusal", i)
	}
	require.Equal(t, Abandoned, alone.obs.waitEnded(t).outcome)
}

// A seat that does not answer in time gives way to the next; the caller is connected.
func TestRingOutGoesToNextSeat(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01", "seat-02"}, map[string]float64{"seat-02": 400}, nil)
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.phones.call("seat-02") != nil }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"seat-01", "seat-02"}, tf.phones.rungSeats(), "longest idle seat first")
	require.Equal(t, seat.Available, tf.acd.States()["seat-01"], "the seat that rang out is free again")
	tf.phones.call("seat-02").hangUp(errors.New("seat hung up"))
	e := tf.obs.waitEnded(t)
	<-done
	require.Equal(t, Completed, e.outcome)
	_, _, byed, _ := caller.state()
	require.True(t, byed, "the seat's hang-up reaches the caller")
}

// A caller who waits longer than the queue allows is refused as "no agent free".
func TestQueueTimeoutRejectsCaller(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, nil, func(_ *Config, s *seat.Config) { s.MaxWait = 200 * time.Millisecond })
	require.NoError(t, tf.acd.SetState("seat-01", seat.Away))
	caller := newFakeCaller(t, 1000)
	<-tf.handle(t, caller)
	e := tf.obs.waitEnded(t)
	require.Equal(t, Failed, e.outcome)
	require.ErrorIs(t, e.cause, seat.ErrQueueTimeout)
	early, answered, _, rejected := caller.state()
	require.True(t, early, "the queued caller heard early media")
	require.False(t, answered)
	require.Equal(t, RejectNoAgent, rejected)
}

// A caller who hangs up while queued is abandoned, not refused, and the queue empties.
func TestCallerLeavesQueue(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, nil, nil)
	require.NoError(t, tf.acd.SetState("seat-01", seat.Away))
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.acd.QueueLen() == 1 }, 5*time.Second, 10*time.Millisecond)
	caller.hangUp(errors.New("caller canceled before answer"))
	<-done
	e := tf.obs.waitEnded(t)
	require.Equal(t, Abandoned, e.outcome)
	_, _, _, rejected := caller.state()
	require.Zero(t, rejected, "no final response to a caller who has gone")
	require.Zero(t, tf.acd.QueueLen())
}

// Closing the flow ends a live call with ErrShutdown and waits for it.
func TestCloseEndsCalls(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, nil)
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.phones.call("seat-01") != nil }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, tf.Close())
	// The handler's goroutine may not have closed done yet, but the call must be over:
	// its end was recorded before Close returned.
	var e ended
	select {
	case e = <-tf.obs.ended:
	default:
		t.Fatal("Close returned before the call ended")
	}
	<-done
	require.Equal(t, Completed, e.outcome)
	require.ErrorIs(t, e.cause, ErrShutdown)

	late := newFakeCaller(t, 1000)
	<-tf.handle(t, late)
	_, _, _, rejected := late.state()
	require.Equal(t, RejectUnavailable, rejected, "a call after Close is refused")
	require.Equal(t, Failed, tf.obs.waitEnded(t).outcome)
}

// A call whose media stops in both directions is ended as dead.
func TestDeadMediaEndsCall(t *testing.T) {
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, func(c *Config, _ *seat.Config) {
		c.InactivityTimeout = 500 * time.Millisecond
	})
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.phones.call("seat-01") != nil }, 5*time.Second, 10*time.Millisecond)
	caller.peer.close()
	tf.phones.call("seat-01").peer.close()
	<-done
	e := tf.obs.waitEnded(t)
	require.Equal(t, Completed, e.outcome)
	require.ErrorIs(t, e.cause, ErrInactive)
}

func TestRejectionForQueueErrors(t *testing.T) {
	for err, want := range map[error]Rejection{
		seat.ErrQueueTimeout: RejectNoAgent, seat.ErrQueueFull: RejectQueueFull, seat.ErrNoSeats: RejectNoSeats,
		seat.ErrClosed: RejectUnavailable, ErrShutdown: RejectUnavailable, context.Canceled: RejectInternal,
	} {
		require.Equal(t, want, rejectionFor(err), err.Error())
	}
}

// A disk that fills up mid-call is reported while the call goes on, and the call's audio
// keeps flowing between caller and seat.
func TestFullDiskIsReportedAtOnce(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir).CombinedOutput(); err != nil {
		testpeer.Unavailable(t, "a small tmpfs stands in for a full disk; mount needs root: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	reports := make(chan error, 8)
	tf := newTestFlow(t, []string{"seat-01"}, map[string]float64{"seat-01": 400}, func(c *Config, _ *seat.Config) {
		c.RecordDir = dir
	})
	tf.deps.Health = func(component string, err error) {
		if component == "recording" {
			reports <- err
		}
	}
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	select {
	case err := <-reports:
		require.ErrorContains(t, err, "no space left on device")
	case <-time.After(10 * time.Second):
		t.Fatal("the full disk was not reported during the call")
	}
	sc := tf.phones.call("seat-01")
	before := len(sc.peer.received())
	require.Eventually(t, func() bool { return len(sc.peer.received()) > before+4000 }, 3*time.Second, 20*time.Millisecond,
		"the call goes on")
	caller.hangUp(errors.New("caller hung up"))
	<-done
	require.Equal(t, Completed, tf.obs.waitEnded(t).outcome)
}
