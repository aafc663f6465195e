package media

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultInactivityTimeout is BridgeOptions.InactivityTimeout when zero.
const DefaultInactivityTimeout = 30 * time.Second

// ErrAlreadyBridged reports a leg given to a second bridge.
var ErrAlreadyBridged = errors.New("media: leg already bridged")

// BridgeOptions configures a Bridge.
type BridgeOptions struct {
	// TapA and TapB receive leg a's and leg b's decoded audio: 20 ms PCM16 frames at 8 kHz,
	// one per clock tick from Start, Offset counted from Start (silence where a leg sent
	// nothing), so the two timelines align. They are called on the clock's goroutine and
	// must not block (a Fanout never does). Either may be nil.
	TapA, TapB FrameWriter
	// OnDTMF is called once per key press on either leg (on the end of the event), with
	// the leg's name, the digit and its duration. It runs on the leg's reader goroutine:
	// return quickly and do not call Close from it.
	OnDTMF func(leg string, digit rune, d time.Duration)
	// InactivityTimeout ends a dead call: when neither leg has sent RTP for this long
	// (not counting time either leg is on hold), OnInactive is called once and Inactive
	// is closed. Zero is DefaultInactivityTimeout; negative disables it.
	InactivityTimeout time.Duration
	// OnInactive is called once, on a goroutine the bridge owns, when the timeout fires.
	// Do not call Close from it (Close waits for it); cancel the call's context instead.
	OnInactive func()
	// Jitter is the taps' reorder window, at most MaxJitter; zero is DefaultJitter.
	Jitter time.Duration
	// Clock drives taps and the inactivity check; share one per process. Nil makes the
	// bridge start its own real clock (closed by Close).
	Clock *Clock
	// Logger receives the bridge's logs; nil discards them.
	Logger *slog.Logger
}

// Bridge relays RTP between two legs and taps both. Forwarding happens on each leg's reader
// goroutine as packets arrive; the reorder window only feeds the taps, so it adds no delay.
type Bridge struct {
	a, b      *Leg
	opts      BridgeOptions
	log       *slog.Logger
	clock     *Clock
	ownClock  bool
	now       func() time.Time
	inactive  chan struct{}
	fire      chan struct{}
	done      chan struct{}
	wg        sync.WaitGroup
	unsub     func()
	startOnce sync.Once
	closeOnce sync.Once
	started   bool
	startErr  error

	// Clock-goroutine state.
	ticks      int64
	lastActive time.Time
	fired      bool
}

// NewBridge prepares a bridge between a and b; nothing is relayed until Start.
func NewBridge(a, b *Leg, opts BridgeOptions) *Bridge {
	if opts.InactivityTimeout == 0 {
		opts.InactivityTimeout = DefaultInactivityTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bridge{
		a: a, b: b, opts: opts,
		log:      opts.Logger.With("bridge", a.name+"<->"+b.name),
		now:      a.now,
		inactive: make(chan struct{}),
		fire:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// String names the bridge by its legs.
func (br *Bridge) String() string { return "bridge(" + br.a.String() + " <-> " + br.b.String() + ")" }

// Start begins relaying both ways and tapping; Play on either leg stops. A second Start is
// a no-op; a leg already in another bridge makes it fail with ErrAlreadyBridged.
func (br *Bridge) Start() error {
	br.startOnce.Do(func() { br.startErr = br.start() })
	return br.startErr
}

func (br *Bridge) start() error {
	select {
	case <-br.done:
		return ErrClosed
	default:
	}
	for _, l := range []*Leg{br.a, br.b} {
		select {
		case <-l.bridgedCh():
			return ErrAlreadyBridged
		default:
		}
	}
	close(br.a.bridgedCh())
	close(br.b.bridgedCh())
	br.clock = br.opts.Clock
	if br.clock == nil {
		br.clock, br.ownClock = NewClock(), true
	}
	br.lastActive = br.now()
	br.attach(br.a, br.b, br.opts.TapA)
	br.attach(br.b, br.a, br.opts.TapB)
	br.started = true
	br.wg.Add(1)
	go br.watch()
	br.unsub = br.clock.subscribe(br.tick)
	br.log.Debug("bridge started")
	return nil
}

func (br *Bridge) attach(l, peer *Leg, tap FrameWriter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.peer = peer
	l.onDTMF = br.opts.OnDTMF
	if tap != nil {
		l.tap = newWindow(br.opts.Jitter)
	}
}

func (br *Bridge) detach(l *Leg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.peer, l.onDTMF = nil, nil
	// The leg may play again on its own (a survey after the other side hung up).
	l.bridged = make(chan struct{})
	// The tap stays so its late count remains in Stats; it is no longer ticked.
}

// Inactive is closed when the inactivity timeout fires.
func (br *Bridge) Inactive() <-chan struct{} { return br.inactive }

// tick runs on the clock goroutine: frames frames per leg to the taps (more than one only
// when the clock fell behind), then the inactivity check.
func (br *Bridge) tick(frames int) {
	var ra, rb legTick
	for range frames {
		off := time.Duration(br.ticks) * FrameDuration
		br.ticks++
		var fa, fb []int16
		ra, fa = br.a.tick()
		rb, fb = br.b.tick()
		if fa != nil {
			_ = br.opts.TapA.WriteFrame(Frame{Samples: fa, Rate: SampleRate, Offset: off})
		}
		if fb != nil {
			_ = br.opts.TapB.WriteFrame(Frame{Samples: fb, Rate: SampleRate, Offset: off})
		}
	}
	if br.opts.InactivityTimeout < 0 || br.fired {
		return
	}
	now := br.now()
	for _, st := range []legTick{ra, rb} {
		if st.onHold {
			br.lastActive = now
		} else if st.lastRx.After(br.lastActive) {
			br.lastActive = st.lastRx
		}
	}
	if now.Sub(br.lastActive) >= br.opts.InactivityTimeout {
		br.fired = true
		close(br.inactive)
		br.fire <- struct{}{}
	}
}

type legTick struct {
	lastRx time.Time
	onHold bool
}

// tick takes the leg's next tap frame (nil without a tap) and its activity state.
func (l *Leg) tick() (legTick, []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := legTick{lastRx: l.lastRx, onHold: l.dir != SendRecv}
	if l.tap == nil {
		return st, nil
	}
	return st, l.tap.next()
}

func (br *Bridge) watch() {
	defer br.wg.Done()
	select {
	case <-br.done:
	case <-br.fire:
		br.log.Info("rtp inactivity timeout", "timeout", br.opts.InactivityTimeout)
		if br.opts.OnInactive != nil {
			br.opts.OnInactive()
		}
	}
}

// Close stops relaying and tapping and waits for the bridge's goroutines; it is
// idempotent. It does not close the legs (their dialogs own them) or the taps.
func (br *Bridge) Close() error {
	br.closeOnce.Do(func() {
		// Make a later Start fail instead of starting a closed bridge.
		br.startOnce.Do(func() { br.startErr = ErrClosed })
		close(br.done)
		if !br.started {
			return
		}
		br.unsub()
		br.detach(br.a)
		br.detach(br.b)
		br.wg.Wait()
		if br.ownClock {
			br.clock.Close()
		}
		br.log.Debug("bridge closed")
	})
	return nil
}
