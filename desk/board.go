package desk

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"lianxin/store"
)

// The wallboard's state now: the hotspot alerts still open and the calls flagged for poor
// audio. The desk keeps it from the events it pushes (under the hub's lock, in the order
// screens see them), so that a wallboard that connects is shown what is true at its cut
// before any new event: the snapshot its socket sends after the hello, with the failing
// parts (system.health) and the day's urgent calls (urgent.go). Open alerts are read back from the store at start; quality flags
// need not be, since no call outlives the process.

// Alert states that take an alert off the wallboard.
const (
	alertClosed  = "closed"
	alertExpired = "expired"
)

// maxBoard bounds each of the board's lists, the oldest entry going first: more than a
// wallboard shows (its 50 alerts), fewer than would let a runaway publisher grow memory.
const maxBoard = 500

// board is the wallboard's state. The hub's lock guards it.
type board struct {
	n       int64                 // entries noted so far: their order
	alerts  map[string]boardEntry // alert id → its latest change, while open
	quality map[string]boardEntry // call id → its latest verdict, while poor
}

// boardEntry is an event as admins see it (speech masked), without its seq: a snapshot
// repeats the state at the cut, which the screen must not take as its position.
type boardEntry struct {
	order int64
	until time.Time // an alert lapses then unless another call joins; zero: not known
	ev    wireEvent
}

func newBoard() *board {
	return &board{alerts: map[string]boardEntry{}, quality: map[string]boardEntry{}}
}

// until is when the alert lapses unless another call joins it; zero when its data does
// not say.
func (d HotspotData) until() time.Time {
	if d.LastCallAt.IsZero() || d.WindowS <= 0 {
		return time.Time{}
	}
	return d.LastCallAt.Add(time.Duration(d.WindowS) * time.Second)
}

// note takes an event pushed to screens into the board. An alert without an ID has no
// life cycle to follow and is left out.
func (b *board) note(ev Event, raw json.RawMessage) error {
	switch ev.Type {
	case TypeHotspot:
		var d HotspotData
		if err := decode(ev.Type, raw, &d); err != nil || d.ID == "" {
			return err
		}
		if d.State == alertClosed || d.State == alertExpired {
			delete(b.alerts, d.ID)
			return nil
		}
		return b.putAlert(ev, raw, d.ID, d.until())
	case TypeQuality:
		var d CallQualityData
		if err := decode(ev.Type, raw, &d); err != nil || ev.CallID == "" {
			return err
		}
		if !d.Poor {
			delete(b.quality, ev.CallID)
			return nil
		}
		b.put(b.quality, ev.CallID, boardEntry{ev: boardWire(ev, raw)})
	case TypeEnded:
		delete(b.quality, ev.CallID)
	}
	return nil
}

func (b *board) putAlert(ev Event, raw json.RawMessage, id string, until time.Time) error {
	masked, err := redactPayload(ev.Type, raw)
	if err != nil {
		return err
	}
	b.put(b.alerts, id, boardEntry{until: until, ev: boardWire(ev, masked)})
	return nil
}

func (b *board) put(m map[string]boardEntry, key string, e boardEntry) {
	b.n++
	e.order = b.n
	m[key] = e
	if len(m) <= maxBoard {
		return
	}
	oldest := key
	for k, x := range m {
		if x.order < m[oldest].order {
			oldest = k
		}
	}
	delete(m, oldest)
}

func boardWire(ev Event, data json.RawMessage) wireEvent {
	return wireEvent{Type: ev.Type, Time: ev.Time, CallID: ev.CallID, Seat: ev.Seat, Data: data}
}

// restore takes up the alerts the store has open (store.OpenAlerts).
func (b *board) restore(alerts []store.Alert) error {
	for _, a := range alerts {
		if err := b.putAlert(Event{Type: TypeHotspot, Time: a.At}, a.Data, a.ID, a.Until); err != nil {
			return fmt.Errorf("alert %s: %w", a.ID, err)
		}
	}
	return nil
}

// snapshot is the board as a screen that takes types should find it at now, in the
// order it happened; alerts whose window has passed are dropped.
func (b *board) snapshot(now time.Time, types typeFilter) []wireEvent {
	var es []boardEntry
	if types.match(TypeHotspot) {
		for id, e := range b.alerts {
			if !e.until.IsZero() && !now.Before(e.until) {
				delete(b.alerts, id)
				continue
			}
			es = append(es, e)
		}
	}
	if types.match(TypeQuality) {
		for _, e := range b.quality {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(x, y boardEntry) int { return cmp.Compare(x.order, y.order) })
	out := make([]wireEvent, len(es))
	for i, e := range es {
		out[i] = e.ev
	}
	return out
}

// snapshotLocked is what a socket of sess that takes types is told on connecting, after
// the hello: for an admin, the parts failing, the open alerts, the calls flagged for poor
// audio and the day's urgent calls still to be seen (urgent.go), as events without a seq (they repeat the state at the cut; a replay that
// follows, and the live stream, change it as they would have). The caller holds the hub's
// lock, under which all of it changes.
func (d *Desk) snapshotLocked(sess Session, types typeFilter) []wireEvent {
	if !sess.Admin() {
		return nil
	}
	now := d.opts.Now()
	var out []wireEvent
	if types.match(TypeHealth) {
		for _, p := range d.Problems() {
			raw, _ := json.Marshal(p)
			out = append(out, wireEvent{Type: TypeHealth, Time: now.UTC(), Data: raw})
		}
	}
	out = append(out, d.board.snapshot(now, types)...)
	if types.match(TypeWorkOrderUrgent) {
		out = append(out, d.urgentLocked()...)
	}
	return out
}

// restoreBoard reads back the alerts that were open when the gateway stopped.
func (d *Desk) restoreBoard(ctx context.Context) error {
	alerts, err := d.st.OpenAlerts(ctx, d.opts.Now())
	if err != nil {
		return err
	}
	return d.board.restore(alerts)
}
