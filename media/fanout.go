package media

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultQueueLen is the consumer queue length Add uses for queueLen ≤ 0: 50 frames, one
// second of 20 ms audio.
const DefaultQueueLen = 50

// FanoutOptions configures a Fanout.
type FanoutOptions struct {
	// Metrics counts dropped frames per consumer; nil keeps the count unregistered.
	Metrics *Metrics
	// Logger receives consumer errors; nil discards them.
	Logger *slog.Logger
}

// Fanout is a FrameWriter that delivers every frame to several consumers, each through its
// own bounded queue and goroutine, so a slow consumer (a recogniser on a congested link)
// never slows the tap or the others: when its queue is full, the frame is dropped for that
// consumer alone and counted.
//
// Consumers get a Frame whose Samples are valid only during their WriteFrame call (the
// io.Writer rule): the fan-out recycles each buffer once the consumer has returned, so the
// media path does not allocate and a consumer holds only as many buffers as its queue is
// deep. A consumer that keeps audio must copy it.
type Fanout struct {
	name string
	opts FanoutOptions
	log  *slog.Logger

	mu        sync.Mutex
	consumers []*consumer
	closed    bool
	wg        sync.WaitGroup
}

type consumer struct {
	w       FrameWriter
	ch      chan Frame
	free    chan []int16 // buffers the consumer is done with
	dropped atomic.Uint64
	drops   prometheus.Counter
}

// NewFanout returns an empty fan-out; name appears in String and logs.
func NewFanout(name string, opts FanoutOptions) *Fanout {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Fanout{name: name, opts: opts, log: opts.Logger.With("fanout", name)}
}

// String prints the fan-out and its consumers, e.g. "fanout(caller) -> [recorder(left) asr]".
func (f *Fanout) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := "fanout(" + f.name + ") -> ["
	for i, c := range f.consumers {
		if i > 0 {
			s += " "
		}
		s += c.w.String()
	}
	return s + "]"
}

// Add attaches a consumer with a queue of queueLen frames (DefaultQueueLen if ≤ 0) and
// starts its goroutine. The drop metric's consumer label is w.String(), so consumers should
// print a kind ("recorder", "asr"), not a call id. Adding to a closed fan-out is a no-op.
func (f *Fanout) Add(w FrameWriter, queueLen int) {
	if queueLen <= 0 {
		queueLen = DefaultQueueLen
	}
	c := &consumer{
		w:     w,
		ch:    make(chan Frame, queueLen),
		free:  make(chan []int16, queueLen+1),
		drops: f.opts.Metrics.tapDrops(w.String()),
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.consumers = append(f.consumers, c)
	f.wg.Add(1)
	go f.run(c)
}

func (f *Fanout) run(c *consumer) {
	defer f.wg.Done()
	failed := false
	for fr := range c.ch {
		if err := c.w.WriteFrame(fr); err != nil && !failed {
			// Log once: a consumer that fails fails on every frame.
			failed = true
			f.log.Warn("tap consumer failed", "consumer", c.w.String(), "err", err)
		}
		select {
		case c.free <- fr.Samples[:0]:
		default: // cannot happen: at most queueLen+1 buffers exist; drop it if it does
		}
	}
}

// WriteFrame copies fr into every consumer's queue that has room and never blocks. It is
// meant for one producer (a bridge's tap); concurrent calls are safe but serialised.
func (f *Fanout) WriteFrame(fr Frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	for _, c := range f.consumers {
		// Only this method sends, under f.mu, so room now means the send cannot block.
		if len(c.ch) == cap(c.ch) {
			c.dropped.Add(1)
			c.drops.Inc()
			continue
		}
		var b []int16
		select {
		case b = <-c.free:
		default:
		}
		if cap(b) < len(fr.Samples) {
			b = make([]int16, len(fr.Samples), max(len(fr.Samples), FrameSamples*2))
		}
		b = b[:len(fr.Samples)]
		copy(b, fr.Samples)
		c.ch <- Frame{Samples: b, Rate: fr.Rate, Offset: fr.Offset}
	}
	return nil
}

// ConsumerStats describes one consumer of a Fanout.
type ConsumerStats struct {
	// Name is the consumer's String().
	Name string
	// Queued is how many frames wait in its queue now.
	Queued int
	// Dropped is how many frames it lost to a full queue.
	Dropped uint64
}

// Stats lists the consumers in the order they were added.
func (f *Fanout) Stats() []ConsumerStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ConsumerStats, len(f.consumers))
	for i, c := range f.consumers {
		out[i] = ConsumerStats{Name: c.w.String(), Queued: len(c.ch), Dropped: c.dropped.Load()}
	}
	return out
}

// Close stops accepting frames, lets every consumer drain its queue, and waits for them;
// it is idempotent. It does not close the consumers.
func (f *Fanout) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		for _, c := range f.consumers {
			close(c.ch)
		}
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}
