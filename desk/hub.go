package desk

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// frame is one encoded event on its way to a subscriber. Every subscriber shares the bytes.
type frame struct {
	seq  int64
	typ  string
	data []byte
}

// typeFilter is the event types a screen asked for (?types=seat.state,call.): an entry ending
// in "." matches every type it prefixes. Empty means every type.
type typeFilter []string

func (f typeFilter) match(typ string) bool {
	if len(f) == 0 {
		return true
	}
	for _, t := range f {
		if t == typ || (strings.HasSuffix(t, ".") && strings.HasPrefix(typ, t)) {
			return true
		}
	}
	return false
}

// parseTypes reads a comma-separated types parameter.
func parseTypes(v string) (typeFilter, error) {
	if v == "" {
		return nil, nil
	}
	f := typeFilter(strings.Split(v, ","))
	if len(f) > 32 {
		return nil, errors.New("types: at most 32 entries")
	}
	for _, t := range f {
		if t == "" || len(t) > 64 {
			return nil, fmt.Errorf("types: bad entry %q", t)
		}
	}
	return f, nil
}

// subscriber is one screen's bounded queue. A subscriber that falls a whole buffer behind is
// dropped rather than allowed to slow the publisher; its screen resumes with after_seq.
type subscriber struct {
	session Session
	types   typeFilter
	ch      chan *frame   // shared, read-only frames: 8 bytes a slot
	gone    chan struct{} // closed when the hub drops the subscriber
	why     dropReason    // why gone was closed; written before the close, read after it
}

// dropReason says why the hub dropped a subscriber, which decides its close code.
type dropReason int

const (
	dropClosed    dropReason = iota // the hub closed: the server is shutting down
	dropSlow                        // its buffer filled
	dropLoggedOut                   // its token was revoked
)

// hub fans events out to subscribers. mu is held across "assign seq, then deliver", so every
// subscriber receives stored events in seq order, and a new subscriber's cut (the last seq
// before it joined) separates exactly what it must replay from what it will receive live.
type hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	lastSeq int64
	closed  bool
	onDrop  func()
	// conns counts subscribed connections; Add happens under mu with closed checked, so
	// a Close that waits on it cannot miss a connection that is still starting
	conns sync.WaitGroup
}

func newHub(lastSeq int64, onDrop func()) *hub {
	return &hub{subs: map[*subscriber]struct{}{}, lastSeq: lastSeq, onDrop: onDrop}
}

// subscribe registers a subscriber with a buffer of size events and returns it with the cut.
// ok is false when the hub is closed. The caller calls h.conns.Done when its connection ends.
// atCut, when not nil, runs under the hub's lock at the cut: what it reads of state the
// publishers change under that lock is the state at the cut.
func (h *hub) subscribe(s Session, types typeFilter, size int, atCut func()) (sub *subscriber, cut int64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, false
	}
	if atCut != nil {
		atCut()
	}
	h.conns.Add(1)
	sub = &subscriber{session: s, types: types, ch: make(chan *frame, size), gone: make(chan struct{})}
	h.subs[sub] = struct{}{}
	return sub, h.lastSeq, true
}

// unsubscribe removes sub; it is safe after the hub dropped it.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		h.dropLocked(sub, dropClosed)
	}
}

// dropLocked removes sub and tells its connection why. The caller holds h.mu.
func (h *hub) dropLocked(sub *subscriber, why dropReason) {
	delete(h.subs, sub)
	sub.why = why
	close(sub.gone)
}

// dropToken drops every subscriber opened with tok and returns how many there were.
func (h *hub) dropToken(tok string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for sub := range h.subs {
		if sub.session.token == tok {
			h.dropLocked(sub, dropLoggedOut)
			n++
		}
	}
	return n
}

// deliverLocked pushes f to every subscriber that may see seat, never blocking. The caller
// holds h.mu (see publish in desk.go).
func (h *hub) deliverLocked(seat string, f *frame) { h.deliverSplitLocked(seat, f, f) }

// deliverSplitLocked is deliverLocked with two encodings of one event: own for that seat's
// screens, others (the same seq, personal data masked) for admins.
func (h *hub) deliverSplitLocked(seat string, own, others *frame) {
	if own.seq > h.lastSeq {
		h.lastSeq = own.seq
	}
	for sub := range h.subs {
		if !sub.session.sees(seat) || !sub.types.match(own.typ) {
			continue
		}
		f := others
		if sub.session.Role == RoleSeat && sub.session.Seat == seat {
			f = own
		}
		select {
		case sub.ch <- f:
		default:
			h.dropLocked(sub, dropSlow)
			if h.onDrop != nil {
				h.onDrop()
			}
		}
	}
}

// close drops every subscriber and refuses new ones; it is safe to call twice.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		h.dropLocked(sub, dropClosed)
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
