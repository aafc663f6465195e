// Package seat owns the agent seats, their states and the ACD: a FIFO queue of waiting
// calls served by the longest-idle available seat of the call's line.
package seat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// State is a seat's state as agents and the wallboard see it.
type State string

// Seat states. A seat is Offline until its phone registers; Available seats take calls;
// Ringing, Talking and WrapUp follow a call; Away is the agent's own choice.
const (
	Offline   State = "offline"
	Available State = "available"
	Ringing   State = "ringing"
	Talking   State = "talking"
	WrapUp    State = "wrapup"
	Away      State = "away"
)

// Phone is the kind of phone a seat rings.
type Phone string

// Phone kinds. A browser page that is the seat's phone wins over a SIP phone registered
// for the same seat: opening the page as a phone is the agent's latest, deliberate choice,
// while a desk phone's registration lingers until it expires.
const (
	PhoneNone   Phone = ""
	PhoneSIP    Phone = "sip"
	PhoneWebRTC Phone = "webrtc"
)

// AllStates lists every state, for metrics.
var AllStates = [...]State{Offline, Available, Ringing, Talking, WrapUp, Away}

// Errors returned by the ACD. They classify themselves for SIP and HTTP callers.
var (
	ErrQueueTimeout = errors.New("seat: no seat answered within the maximum queue wait")
	ErrQueueFull    = errors.New("seat: queue full")
	ErrNoSeats      = errors.New("seat: no seat serves this line")
	ErrUnknownSeat  = errors.New("seat: unknown seat")
	ErrBadState     = errors.New("seat: state change not allowed")
	ErrClosed       = errors.New("seat: ACD closed")
)

// Config is the ACD's configuration.
type Config struct {
	// Seats are the seat ids, e.g. seat-01 … seat-60.
	Seats []string
	// Lines maps a dialled number to the seats that serve it (a skill line). A number not
	// listed is served by every seat.
	Lines map[string][]string
	// WrapUp is the after-call work time before a seat is offered calls again.
	WrapUp time.Duration
	// MaxWait is the longest a caller waits in the queue; zero means no limit.
	MaxWait time.Duration
	// MaxQueue bounds the number of waiting callers; zero means no limit.
	MaxQueue int
}

// Change is one seat state transition.
type Change struct {
	Seat     string
	From, To State
	At       time.Time
}

type seatInfo struct {
	id    string
	state State
	// registered is true while any of the seat's phones is registered; sources says which
	registered bool
	sources    map[Phone]bool
	idleSince  time.Time
	wrapTimer  *time.Timer
}

type waiter struct {
	line    string
	exclude map[string]bool
	ch      chan string
	since   time.Time
}

// ACD routes calls to seats. It is safe for concurrent use.
type ACD struct {
	cfg      Config
	now      func() time.Time
	metrics  *Metrics
	onChange func(Change)

	// deliver serialises onChange calls so observers see changes in the order they happened.
	deliver sync.Mutex
	mu      sync.Mutex
	seats   map[string]*seatInfo
	lines   map[string]map[string]bool
	queue   []*waiter
	closed  bool
	wrapWG  sync.WaitGroup
	changes []Change
}

// Options are the ACD's collaborators.
type Options struct {
	Now      func() time.Time
	Metrics  *Metrics
	OnChange func(Change)
}

// New builds an ACD with every seat offline.
func New(cfg Config, opts Options) (*ACD, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &ACD{cfg: cfg, now: opts.Now, metrics: opts.Metrics, onChange: opts.OnChange,
		seats: map[string]*seatInfo{}, lines: map[string]map[string]bool{}}
	for _, id := range cfg.Seats {
		a.seats[id] = &seatInfo{id: id, state: Offline, sources: map[Phone]bool{}}
		a.metrics.setState(id, "", Offline)
	}
	for line, ids := range cfg.Lines {
		set := map[string]bool{}
		for _, id := range ids {
			if _, ok := a.seats[id]; !ok {
				return nil, fmt.Errorf("seat: line %q names unknown seat %q", line, id)
			}
			set[id] = true
		}
		a.lines[line] = set
	}
	return a, nil
}

// Has reports whether id is a configured seat.
func (a *ACD) Has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.seats[id]
	return ok
}

// States returns every seat's current state.
func (a *ACD) States() map[string]State {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]State, len(a.seats))
	for id, s := range a.seats {
		out[id] = s.state
	}
	return out
}

// StateNames is States with each state as its name, for screens and logs.
func (a *ACD) StateNames() map[string]string {
	out := map[string]string{}
	for id, s := range a.States() {
		out[id] = string(s)
	}
	return out
}

// PhoneOf is the phone that rings when seat id is offered a call: PhoneWebRTC when a
// browser is the seat's phone, else PhoneSIP when a SIP phone is registered, else
// PhoneNone.
func (a *ACD) PhoneOf(id string) Phone {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.seats[id]
	switch {
	case !ok:
		return PhoneNone
	case s.sources[PhoneWebRTC]:
		return PhoneWebRTC
	case s.sources[PhoneSIP]:
		return PhoneSIP
	}
	return PhoneNone
}

// Queue is how many callers wait for a seat and how long the longest has waited.
func (a *ACD) Queue() (waiting int, longest time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for _, w := range a.queue {
		longest = max(longest, now.Sub(w.since))
	}
	return len(a.queue), longest
}

// QueueLen is the number of callers waiting for a seat.
func (a *ACD) QueueLen() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

// SetRegistered records that a seat's SIP phone registered (or its registration ended).
// It is SetPhone(id, PhoneSIP, registered).
func (a *ACD) SetRegistered(id string, registered bool) error {
	return a.SetPhone(id, PhoneSIP, registered)
}

// SetPhone records that one of a seat's phones (a SIP registration, a browser page logged
// in as the seat's phone) came or went. A seat with any phone is registered: it becomes
// available when its first phone comes, and goes offline when its last phone goes, unless
// it is on a call (a browser reloading mid-call comes back to it).
func (a *ACD) SetPhone(id string, p Phone, on bool) error {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	s, ok := a.seats[id]
	if !ok {
		return ErrUnknownSeat
	}
	if on {
		s.sources[p] = true
	} else {
		delete(s.sources, p)
	}
	registered := len(s.sources) > 0
	s.registered = registered
	switch {
	case registered && s.state == Offline:
		a.setLocked(s, Available)
	case !registered && (s.state == Available || s.state == Away || s.state == WrapUp):
		a.stopWrapLocked(s)
		a.setLocked(s, Offline)
	}
	return nil
}

// SetState is the agent's own choice between Available and Away.
func (a *ACD) SetState(id string, st State) error {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	s, ok := a.seats[id]
	if !ok {
		return ErrUnknownSeat
	}
	if st != Available && st != Away {
		return fmt.Errorf("%w: an agent may choose available or away, not %q", ErrBadState, st)
	}
	switch s.state {
	case Available, Away, WrapUp:
		a.stopWrapLocked(s)
		a.setLocked(s, st)
		return nil
	case Offline:
		return fmt.Errorf("%w: %s is offline (its phone is not registered)", ErrBadState, id)
	default:
		return fmt.Errorf("%w: %s is %s", ErrBadState, id, s.state)
	}
}

// Acquire waits in the line's FIFO queue for the longest-idle available seat not in
// exclude, and returns it in state Ringing. It fails with ErrQueueTimeout after MaxWait,
// or with the context's cause when the caller gives up.
func (a *ACD) Acquire(ctx context.Context, line string, exclude map[string]bool) (string, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return "", ErrClosed
	}
	if len(a.eligibleLocked(line)) == 0 {
		a.mu.Unlock()
		return "", ErrNoSeats
	}
	if a.cfg.MaxQueue > 0 && len(a.queue) >= a.cfg.MaxQueue {
		a.mu.Unlock()
		return "", ErrQueueFull
	}
	w := &waiter{line: line, exclude: exclude, ch: make(chan string, 1), since: a.now()}
	a.queue = append(a.queue, w)
	a.metrics.queued(len(a.queue))
	a.dispatchLocked()
	a.mu.Unlock()
	a.flush()

	var timeout <-chan time.Time
	if a.cfg.MaxWait > 0 {
		t := time.NewTimer(a.cfg.MaxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case id := <-w.ch:
		return id, nil
	case <-ctx.Done():
		return "", a.abandon(w, context.Cause(ctx))
	case <-timeout:
		return "", a.abandon(w, ErrQueueTimeout)
	}
}

// abandon takes w out of the queue; a seat assigned in the meantime is handed back.
func (a *ACD) abandon(w *waiter, cause error) error {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	for i, q := range a.queue {
		if q == w {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			a.metrics.dequeued(len(a.queue), a.now().Sub(w.since))
			return cause
		}
	}
	select {
	case id := <-w.ch:
		a.backLocked(id)
	default:
	}
	return cause
}

// Answered moves a ringing seat to Talking.
func (a *ACD) Answered(id string) {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	if s, ok := a.seats[id]; ok && s.state == Ringing {
		a.setLocked(s, Talking)
	}
}

// NoAnswer hands a seat that was rung but did not take the call back to the pool.
func (a *ACD) NoAnswer(id string) {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	a.backLocked(id)
}

func (a *ACD) backLocked(id string) {
	s, ok := a.seats[id]
	if !ok || s.state != Ringing {
		return
	}
	a.setLocked(s, a.idleStateLocked(s))
}

// Release ends a seat's call: WrapUp for the configured time, then Available.
func (a *ACD) Release(id string) {
	a.mu.Lock()
	defer a.flush()
	defer a.mu.Unlock()
	s, ok := a.seats[id]
	if !ok || (s.state != Talking && s.state != Ringing) {
		return
	}
	if a.cfg.WrapUp <= 0 || a.closed {
		a.setLocked(s, a.idleStateLocked(s))
		return
	}
	a.setLocked(s, WrapUp)
	a.wrapWG.Add(1)
	s.wrapTimer = time.AfterFunc(a.cfg.WrapUp, func() {
		defer a.wrapWG.Done()
		a.mu.Lock()
		defer a.flush()
		defer a.mu.Unlock()
		if s.state == WrapUp {
			s.wrapTimer = nil
			a.setLocked(s, a.idleStateLocked(s))
		}
	})
}

func (a *ACD) idleStateLocked(s *seatInfo) State {
	if s.registered {
		return Available
	}
	return Offline
}

func (a *ACD) stopWrapLocked(s *seatInfo) {
	if s.wrapTimer != nil && s.wrapTimer.Stop() {
		a.wrapWG.Done()
	}
	s.wrapTimer = nil
}

// Close stops the wrap-up timers and fails every waiting caller with ErrClosed.
func (a *ACD) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	for _, s := range a.seats {
		a.stopWrapLocked(s)
	}
	a.mu.Unlock()
	a.wrapWG.Wait()
	return nil
}

func (a *ACD) eligibleLocked(line string) []*seatInfo {
	set, skill := a.lines[line]
	out := make([]*seatInfo, 0, len(a.seats))
	for id, s := range a.seats {
		if !skill || set[id] {
			out = append(out, s)
		}
	}
	return out
}

// dispatchLocked offers available seats to waiters in FIFO order, longest-idle seat first.
func (a *ACD) dispatchLocked() {
	for i := 0; i < len(a.queue); {
		w := a.queue[i]
		s := a.pickLocked(w)
		if s == nil {
			i++
			continue
		}
		a.queue = append(a.queue[:i], a.queue[i+1:]...)
		a.metrics.dequeued(len(a.queue), a.now().Sub(w.since))
		a.setLocked(s, Ringing)
		w.ch <- s.id
	}
}

func (a *ACD) pickLocked(w *waiter) *seatInfo {
	var avail []*seatInfo
	for _, s := range a.eligibleLocked(w.line) {
		if s.state == Available {
			avail = append(avail, s)
		}
	}
	if len(avail) == 0 {
		return nil
	}
	sort.Slice(avail, func(i, j int) bool {
		if !avail[i].idleSince.Equal(avail[j].idleSince) {
			return avail[i].idleSince.Before(avail[j].idleSince)
		}
		return avail[i].id < avail[j].id
	})
	for _, s := range avail {
		if !w.exclude[s.id] {
			return s
		}
	}
	// Every available seat already let this call ring out: start another round rather
	// than keep the caller waiting for a seat that may never come.
	for id := range w.exclude {
		delete(w.exclude, id)
	}
	return avail[0]
}

func (a *ACD) setLocked(s *seatInfo, to State) {
	from := s.state
	if from == to {
		return
	}
	s.state = to
	now := a.now()
	if to == Available {
		s.idleSince = now
	}
	a.metrics.setState(s.id, from, to)
	a.changes = append(a.changes, Change{Seat: s.id, From: from, To: to, At: now})
	if to == Available {
		// Every way a seat becomes free (registering, leaving away or wrap-up, a call
		// ending, a ring-out) must reach the queue at once, or a waiting caller sits
		// there until the next INVITE or max_wait.
		a.dispatchLocked()
	}
}

// flush delivers the changes recorded under the lock, outside it, in order.
func (a *ACD) flush() {
	a.deliver.Lock()
	defer a.deliver.Unlock()
	a.mu.Lock()
	ch := a.changes
	a.changes = nil
	a.mu.Unlock()
	if a.onChange == nil {
		return
	}
	for _, c := range ch {
		a.onChange(c)
	}
}
