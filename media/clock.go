package media

import (
	"sync"
	"time"
)

// Clock is the shared 20 ms tick that drives every bridge's taps and inactivity checks. One
// goroutine serves all subscribers, so thousands of calls cost one timer instead of one
// ticker each, and every leg of a bridge is ticked in the same instant, which keeps the
// caller and agent timelines aligned. Create one per process (NewClock) and pass it in
// BridgeOptions; tests drive a NewManualClock with Tick.
type Clock struct {
	mu     sync.Mutex
	subs   map[uint64]func()
	nextID uint64
	order  []func() // reused snapshot of subs for one tick

	tickMu sync.Mutex // held while subscribers run; unsubscribe waits on it

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	manual   bool
}

// NewClock starts a clock ticking every FrameDuration until Close.
func NewClock() *Clock {
	c := newClock(false)
	go c.run()
	return c
}

// NewManualClock returns a clock that ticks only when Tick is called (tests, offline tools).
func NewManualClock() *Clock {
	c := newClock(true)
	close(c.done)
	return c
}

func newClock(manual bool) *Clock {
	return &Clock{
		subs:   make(map[uint64]func()),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		manual: manual,
	}
}

// String names the clock.
func (c *Clock) String() string {
	if c.manual {
		return "clock(manual)"
	}
	return "clock(20ms)"
}

func (c *Clock) run() {
	defer close(c.done)
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.Tick()
		}
	}
}

// Tick runs every subscriber once, in the calling goroutine. A real clock calls it itself;
// call it directly only on a manual clock.
func (c *Clock) Tick() {
	c.tickMu.Lock()
	defer c.tickMu.Unlock()
	c.mu.Lock()
	c.order = c.order[:0]
	for _, fn := range c.subs {
		c.order = append(c.order, fn)
	}
	c.mu.Unlock()
	for _, fn := range c.order {
		fn()
	}
}

// subscribe adds fn to every tick. The returned function removes it and waits until fn is
// not running; it must not be called from inside fn.
func (c *Clock) subscribe(fn func()) (unsubscribe func()) {
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.subs[id] = fn
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.subs, id)
			c.mu.Unlock()
			c.tickMu.Lock()
			//lint:ignore SA2001 an empty critical section waits for a running tick to finish
			c.tickMu.Unlock()
		})
	}
}

// Close stops a real clock and waits for its goroutine; it is idempotent.
func (c *Clock) Close() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}
