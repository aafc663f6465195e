package media

import (
	"runtime"
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
	subs   map[uint64]func(int)
	nextID uint64
	order  []func(int) // reused snapshot of subs for one tick
	frames int         // frames due in the current tick (1 unless ticks were missed)

	tickMu sync.Mutex // held while subscribers run; unsubscribe waits on it

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	manual   bool
	workers  int
	jobs     chan []func(int)
	jobWG    sync.WaitGroup // one tick's chunks
	workerWG sync.WaitGroup // the worker goroutines
}

// parallelFrom is the subscriber count above which a real clock splits a tick across
// workers: below it one goroutine is cheaper than the hand-off.
const parallelFrom = 128

// NewClock starts a clock ticking every FrameDuration until Close. With many subscribers a
// tick is spread over GOMAXPROCS workers, so taps of thousands of calls use every core.
func NewClock() *Clock {
	c := newClock(false)
	c.workers = runtime.GOMAXPROCS(0)
	if c.workers > 1 {
		c.jobs = make(chan []func(int))
		for range c.workers {
			c.workerWG.Add(1)
			go c.work()
		}
	}
	go c.run()
	return c
}

func (c *Clock) work() {
	defer c.workerWG.Done()
	for chunk := range c.jobs {
		for _, fn := range chunk {
			fn(c.frames)
		}
		c.jobWG.Done()
	}
}

// NewManualClock returns a clock that ticks only when Tick is called (tests, offline tools).
func NewManualClock() *Clock {
	c := newClock(true)
	close(c.done)
	return c
}

func newClock(manual bool) *Clock {
	return &Clock{
		subs:   make(map[uint64]func(int)),
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
	if c.jobs != nil {
		defer c.workerWG.Wait()
		defer close(c.jobs)
	}
	start := time.Now()
	var done int64
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			// A Go ticker drops ticks when its reader is late; count the frames that are
			// due by wall time so tap timelines (and recordings) keep real time.
			due := int64(now.Sub(start) / FrameDuration)
			n := min(max(due-done, 1), maxCatchUp)
			done = max(done+n, due) // a backlog beyond maxCatchUp is skipped
			c.tick(int(n))
		}
	}
}

// maxCatchUp bounds the frames one late tick emits per subscriber; beyond it the timeline
// skips rather than bursting a backlog into the consumers.
const maxCatchUp = 10

// Tick runs every subscriber once for one frame, in the calling goroutine. A real clock
// ticks itself; call Tick only on a manual clock.
func (c *Clock) Tick() { c.tick(1) }

// tick runs every subscriber with the number of frames due.
func (c *Clock) tick(frames int) {
	c.tickMu.Lock()
	defer c.tickMu.Unlock()
	if !c.manual {
		select {
		case <-c.stop:
			return // closed: the workers are gone
		default:
		}
	}
	c.mu.Lock()
	c.order = c.order[:0]
	for _, fn := range c.subs {
		c.order = append(c.order, fn)
	}
	c.mu.Unlock()
	c.frames = frames
	if c.jobs == nil || len(c.order) < parallelFrom {
		for _, fn := range c.order {
			fn(frames)
		}
		return
	}
	size := (len(c.order) + c.workers - 1) / c.workers
	for lo := 0; lo < len(c.order); lo += size {
		c.jobWG.Add(1)
		c.jobs <- c.order[lo:min(lo+size, len(c.order))]
	}
	c.jobWG.Wait()
}

// subscribe adds fn to every tick; fn gets the number of 20 ms frames due (usually 1). The
// returned function removes it and waits until fn is not running; it must not be called
// from inside fn.
func (c *Clock) subscribe(fn func(frames int)) (unsubscribe func()) {
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
