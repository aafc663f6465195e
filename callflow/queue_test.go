package callflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/seat"
)

// queuedFlow is a flow whose only seat is away, so every caller waits in the queue.
func queuedFlow(t *testing.T, mutate func(*Config)) *testFlow {
	tf := newTestFlow(t, []string{"seat-01"}, nil, func(c *Config, s *seat.Config) {
		c.EarlyMediaGrace = 300 * time.Millisecond
		s.MaxWait = time.Minute
		if mutate != nil {
			mutate(c)
		}
	})
	require.NoError(t, tf.acd.SetState("seat-01", seat.Away))
	return tf
}

// An INVITE whose SDP names someone else's address gets that address no more than the
// short grace of hold sound, however long the call stays queued.
func TestEarlyMediaNotAimedAtAThirdParty(t *testing.T) {
	tf := queuedFlow(t, nil)
	victim := newFakeCaller(t, 0) // its SDP address never sends RTP
	done := tf.handle(t, victim)
	require.Eventually(t, func() bool { return len(victim.peer.received()) > 0 }, 2*time.Second, 10*time.Millisecond,
		"the grace sends the hold sound at once")
	time.Sleep(time.Second)
	after := len(victim.peer.received())
	require.LessOrEqual(t, after, 8000*600/1000, "no more than the grace (300 ms) and a frame or two of jitter")
	time.Sleep(time.Second)
	require.Equal(t, after, len(victim.peer.received()), "nothing after the grace")
	victim.hangUp(errors.New("test over"))
	<-done
}

// A caller whose own RTP arrives hears the hold sound for as long as it waits.
func TestEarlyMediaToACallerWhoSends(t *testing.T) {
	tf := queuedFlow(t, nil)
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	time.Sleep(time.Second)
	before := len(caller.peer.received())
	require.Greater(t, before, 8000*600/1000, "past the grace")
	require.Eventually(t, func() bool { return len(caller.peer.received()) > before+4000 }, 3*time.Second, 20*time.Millisecond,
		"the hold sound goes on")
	caller.hangUp(errors.New("test over"))
	<-done
}

// Unproven early-media streams toward one IP address are capped.
func TestEarlyMediaCappedPerAddress(t *testing.T) {
	tf := queuedFlow(t, func(c *Config) { c.EarlyMediaGrace = 3 * time.Second; c.EarlyMediaPerAddress = 2 })
	var victims []*fakeCaller
	for range 4 {
		v := newFakeCaller(t, 0) // every test address is on 127.0.0.1
		victims = append(victims, v)
		tf.handle(t, v)
	}
	require.Eventually(t, func() bool { return tf.acd.QueueLen() == 4 }, 2*time.Second, 10*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	heard := 0
	for _, v := range victims {
		if len(v.peer.received()) > 0 {
			heard++
		}
	}
	require.Equal(t, 2, heard, "only two streams toward one address before it answers")
	for _, v := range victims {
		v.hangUp(errors.New("test over"))
	}
}

// A queued caller whose RTP stops (a phone that died without CANCEL) leaves the queue
// after the inactivity timeout instead of reaching an agent.
func TestSilentQueuedCallerLeaves(t *testing.T) {
	tf := queuedFlow(t, func(c *Config) { c.InactivityTimeout = 600 * time.Millisecond })
	caller := newFakeCaller(t, 1000)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool { return tf.acd.QueueLen() == 1 }, 2*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, 1, tf.acd.QueueLen(), "a caller who sends RTP stays queued")
	caller.peer.close()
	<-done
	e := tf.obs.waitEnded(t)
	require.ErrorIs(t, e.cause, ErrCallerSilent)
	require.Equal(t, Abandoned, e.outcome)
	require.Zero(t, tf.acd.QueueLen())
	require.NoError(t, tf.acd.SetState("seat-01", seat.Available))
	require.Empty(t, tf.phones.rungSeats(), "no agent was rung for the vanished caller")
}

// probedCaller is a caller whose phone sends no RTP and answers probes as answer says
// for the nth probe (from 1).
type probedCaller struct {
	*fakeCaller
	answer func(n int) error
	mu     sync.Mutex
	n      int
}

func (c *probedCaller) Probe(ctx context.Context) error {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if err := c.answer(n); err != nil {
		<-ctx.Done() // an unanswered probe lasts until its deadline
		return err
	}
	return nil
}

func (c *probedCaller) probes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// A queued caller whose phone sends no RTP (as many phones do in early media) is probed:
// one that answers stays queued however long it waits, one that vanished without a
// CANCEL leaves the queue after two unanswered probes and no agent is rung for it.
func TestQueuedCallerWithoutRTPIsProbed(t *testing.T) {
	tf := queuedFlow(t, func(c *Config) { c.ProbeInterval = 200 * time.Millisecond })
	var dead atomic.Bool
	alive := &probedCaller{fakeCaller: newFakeCaller(t, 0), answer: func(int) error { return nil }}
	gone := &probedCaller{fakeCaller: newFakeCaller(t, 0), answer: func(int) error {
		if dead.Load() {
			return context.DeadlineExceeded
		}
		return nil
	}}
	tf.handle(t, alive)
	goneDone := tf.handle(t, gone)
	require.Eventually(t, func() bool { return tf.acd.QueueLen() == 2 }, 2*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, 2, tf.acd.QueueLen(), "callers whose phones answer stay queued")
	require.GreaterOrEqual(t, gone.probes(), 3)

	dead.Store(true)
	<-goneDone
	e := tf.obs.waitEnded(t)
	require.ErrorIs(t, e.cause, ErrCallerGone)
	require.Equal(t, Abandoned, e.outcome)
	require.Equal(t, 1, tf.acd.QueueLen(), "the caller whose phone answers is still queued")
	require.GreaterOrEqual(t, alive.probes(), 5)
	alive.hangUp(errors.New("test over"))
}

// One probe lost (with all its retransmissions) is forgiven; a phone that says it knows no
// such call (481) leaves at once.
func TestProbeMissForgivenAndUnknownCallLeaves(t *testing.T) {
	tf := queuedFlow(t, func(c *Config) { c.ProbeInterval = 200 * time.Millisecond })
	blip := &probedCaller{fakeCaller: newFakeCaller(t, 0), answer: func(n int) error {
		if n%2 == 0 { // every other probe is lost, never two in a row
			return context.DeadlineExceeded
		}
		return nil
	}}
	done := tf.handle(t, blip)
	require.Eventually(t, func() bool { return blip.probes() >= 6 }, 5*time.Second, 10*time.Millisecond)
	select {
	case <-done:
		t.Fatal("a caller who answers every other probe was dropped")
	default:
	}
	blip.hangUp(errors.New("test over"))
	<-done
	tf.obs.waitEnded(t)

	probe481 := &probe481Caller{&probedCaller{fakeCaller: newFakeCaller(t, 0)}}
	start := time.Now()
	<-tf.handle(t, probe481)
	e := tf.obs.waitEnded(t)
	require.ErrorIs(t, e.cause, ErrCallerGone)
	require.Less(t, time.Since(start), time.Second, "gone at the first probe")
}

// probe481Caller's phone answers every probe that it knows no such call.
type probe481Caller struct{ *probedCaller }

func (c *probe481Caller) Probe(context.Context) error {
	return fmt.Errorf("%w: 481 Call/Transaction Does Not Exist", ErrCallerGone)
}

// A caller who sends RTP is watched by its media, never probed.
func TestCallerSendingRTPIsNotProbed(t *testing.T) {
	tf := queuedFlow(t, func(c *Config) { c.ProbeInterval = 100 * time.Millisecond })
	c := &probedCaller{fakeCaller: newFakeCaller(t, 1000), answer: func(int) error { return nil }}
	done := tf.handle(t, c)
	require.Eventually(t, func() bool { return tf.acd.QueueLen() == 1 }, 2*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second)
	require.Zero(t, c.probes())
	c.hangUp(errors.New("test over"))
	<-done
}
