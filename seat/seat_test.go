package seat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newACD(t *testing.T, cfg Config) (*ACD, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	a, err := New(cfg, Options{Now: c.now, Metrics: NewMetrics(prometheus.NewRegistry())})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a, c
}

func TestLongestIdleSeatFirst(t *testing.T) {
	a, c := newACD(t, Config{Seats: []string{"seat-01", "seat-02", "seat-03"}})
	require.NoError(t, a.SetRegistered("seat-02", true))
	c.add(time.Second)
	require.NoError(t, a.SetRegistered("seat-01", true))
	c.add(time.Second)
	require.NoError(t, a.SetRegistered("seat-03", true))

	id, err := a.Acquire(context.Background(), "12345", nil)
	require.NoError(t, err)
	require.Equal(t, "seat-02", id)
	require.Equal(t, Ringing, a.States()["seat-02"])

	id, err = a.Acquire(context.Background(), "12345", map[string]bool{"seat-01": true})
	require.NoError(t, err)
	require.Equal(t, "seat-03", id, "an excluded seat (it let the call ring out) is skipped")
}

func TestQueueIsFIFOAndServedOnRelease(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}})
	require.NoError(t, a.SetRegistered("seat-01", true))
	first, err := a.Acquire(context.Background(), "12345", nil)
	require.NoError(t, err)
	a.Answered(first)

	results := make(chan string, 2)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			id, err := a.Acquire(ctx, "12345", map[string]bool{})
			if err == nil {
				results <- id
				a.Answered(id)
				a.Release(id)
			}
		}(i)
		require.Eventually(t, func() bool { return a.QueueLen() == i+1 }, 2*time.Second, time.Millisecond)
	}
	a.Release(first)
	wg.Wait()
	require.Len(t, results, 2, "both queued callers reach the seat in turn")
}

func TestAbandonWhileQueued(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}})
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error)
	go func() { _, err := a.Acquire(ctx, "12345", nil); done <- err }()
	require.Eventually(t, func() bool { return a.QueueLen() == 1 }, 2*time.Second, time.Millisecond)
	hangup := errors.New("caller hung up")
	cancel(hangup)
	require.ErrorIs(t, <-done, hangup)
	require.Equal(t, 0, a.QueueLen())
}

func TestMaxWait(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}, MaxWait: 20 * time.Millisecond})
	_, err := a.Acquire(context.Background(), "12345", nil)
	require.ErrorIs(t, err, ErrQueueTimeout)
}

func TestSkillLine(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01", "seat-02"}, Lines: map[string][]string{"12366": {"seat-02"}}})
	require.NoError(t, a.SetRegistered("seat-01", true))
	require.NoError(t, a.SetRegistered("seat-02", true))
	id, err := a.Acquire(context.Background(), "12366", nil)
	require.NoError(t, err)
	require.Equal(t, "seat-02", id)
	_, err = New(Config{Seats: []string{"seat-01"}, Lines: map[string][]string{"x": {"seat-99"}}}, Options{})
	require.Error(t, err)
}

func TestWrapUpThenAvailable(t *testing.T) {
	var mu sync.Mutex
	var seen []State
	a, err := New(Config{Seats: []string{"seat-01"}, WrapUp: 10 * time.Millisecond}, Options{OnChange: func(c Change) {
		mu.Lock()
		seen = append(seen, c.To)
		mu.Unlock()
	}})
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.SetRegistered("seat-01", true))
	id, err := a.Acquire(context.Background(), "1", nil)
	require.NoError(t, err)
	a.Answered(id)
	a.Release(id)
	require.Equal(t, WrapUp, a.States()[id])
	require.Eventually(t, func() bool { return a.States()[id] == Available }, 2*time.Second, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []State{Available, Ringing, Talking, WrapUp, Available}, seen)
}

func TestAgentStateRules(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}})
	require.ErrorIs(t, a.SetState("seat-01", Away), ErrBadState, "offline seat")
	require.NoError(t, a.SetRegistered("seat-01", true))
	require.NoError(t, a.SetState("seat-01", Away))
	require.ErrorIs(t, a.SetState("seat-01", Talking), ErrBadState)
	require.ErrorIs(t, a.SetState("seat-99", Away), ErrUnknownSeat)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := a.Acquire(ctx, "1", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded, "an away seat gets no calls")
}

// A caller queued while no seat is available is offered the first seat that becomes
// available, whatever made it available: its phone registering, or its agent coming back.
func TestQueuedCallerTakesSeatThatBecomesAvailable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(a *ACD)
		free   func(a *ACD) error
	}{
		{"phone registers", func(*ACD) {}, func(a *ACD) error { return a.SetRegistered("seat-01", true) }},
		{"agent back from away", func(a *ACD) {
			require.NoError(t, a.SetRegistered("seat-01", true))
			require.NoError(t, a.SetState("seat-01", Away))
		}, func(a *ACD) error { return a.SetState("seat-01", Available) }},
		{"agent ends wrap-up early", func(a *ACD) {
			require.NoError(t, a.SetRegistered("seat-01", true))
			id, err := a.Acquire(context.Background(), "12345", nil)
			require.NoError(t, err)
			a.Answered(id)
			a.Release(id)
			require.Equal(t, WrapUp, a.States()["seat-01"])
		}, func(a *ACD) error { return a.SetState("seat-01", Available) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newACD(t, Config{Seats: []string{"seat-01"}, WrapUp: time.Hour})
			tc.before(a)
			got := make(chan string, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				id, err := a.Acquire(ctx, "12345", nil)
				if err != nil {
					id = err.Error()
				}
				got <- id
			}()
			require.Eventually(t, func() bool { return a.QueueLen() == 1 }, 2*time.Second, time.Millisecond)
			require.NoError(t, tc.free(a))
			select {
			case id := <-got:
				require.Equal(t, "seat-01", id)
			case <-time.After(2 * time.Second):
				t.Fatal("the queued caller was not offered the seat that became available")
			}
			require.Equal(t, Ringing, a.States()["seat-01"])
			require.Zero(t, a.QueueLen())
		})
	}
}

func TestPhonesFromTwoSources(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}})
	require.Equal(t, PhoneNone, a.PhoneOf("seat-01"))
	require.NoError(t, a.SetPhone("seat-01", PhoneWebRTC, true))
	require.Equal(t, Available, a.States()["seat-01"], "a browser phone alone makes the seat available")
	require.Equal(t, PhoneWebRTC, a.PhoneOf("seat-01"))
	require.NoError(t, a.SetRegistered("seat-01", true))
	require.Equal(t, PhoneWebRTC, a.PhoneOf("seat-01"), "the browser wins over a registered SIP phone")
	require.NoError(t, a.SetPhone("seat-01", PhoneWebRTC, false))
	require.Equal(t, PhoneSIP, a.PhoneOf("seat-01"))
	require.Equal(t, Available, a.States()["seat-01"], "the SIP phone keeps the seat available")
	require.NoError(t, a.SetRegistered("seat-01", false))
	require.Equal(t, Offline, a.States()["seat-01"])
	require.Equal(t, PhoneNone, a.PhoneOf("seat-01"))
	require.ErrorIs(t, a.SetPhone("seat-99", PhoneWebRTC, true), ErrUnknownSeat)
}

func TestBrowserLeavingMidCallKeepsTheCall(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01"}})
	require.NoError(t, a.SetPhone("seat-01", PhoneWebRTC, true))
	id, err := a.Acquire(context.Background(), "12345", nil)
	require.NoError(t, err)
	a.Answered(id)
	require.NoError(t, a.SetPhone("seat-01", PhoneWebRTC, false))
	require.Equal(t, Talking, a.States()["seat-01"], "a page reload mid-call does not end the seat's call")
	require.NoError(t, a.SetPhone("seat-01", PhoneWebRTC, true))
	a.Release(id)
	require.Equal(t, Available, a.States()["seat-01"])
}

// The wallboard's queue figures: how many wait, and the longest wait.
func TestQueueFigures(t *testing.T) {
	a, c := newACD(t, Config{Seats: []string{"seat-01"}})
	n, longest := a.Queue()
	require.Zero(t, n)
	require.Zero(t, longest)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{}, 2)
	for range 2 {
		go func() { _, _ = a.Acquire(ctx, "12345", nil); done <- struct{}{} }()
		require.Eventually(t, func() bool { n, _ := a.Queue(); return n > 0 }, 2*time.Second, time.Millisecond)
		c.add(30 * time.Second)
	}
	require.Eventually(t, func() bool { n, _ := a.Queue(); return n == 2 }, 2*time.Second, time.Millisecond)
	n, longest = a.Queue()
	require.Equal(t, 2, n)
	require.Equal(t, 60*time.Second, longest, "the first caller has waited through both clock steps")
	cancel()
	<-done
	<-done
}

// The screens read each seat's state by its name.
func TestStateNames(t *testing.T) {
	a, _ := newACD(t, Config{Seats: []string{"seat-01", "seat-02"}})
	require.NoError(t, a.SetRegistered("seat-02", true))
	require.Equal(t, map[string]string{"seat-01": "offline", "seat-02": "available"}, a.StateNames())
}
