package desk

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"lianxin/store"
)

// The wallboard's urgent calls (事项紧急) outlive a reload and a restart: an admin socket
// that takes workorder.urgent is told, after the hello, of the urgent calls of the desk's
// day that a supervisor still needs to see (store.UrgentCall: in progress, or with no
// work order on its way or delivered), as the workorder.urgent events that announced them.
// They are read from the drafts the store keeps rather than from memory, so that a
// gateway started again shows them too.

// maxUrgentShown is as many urgent calls as the wallboard lists (admin-workorder.js).
const maxUrgentShown = 50

// urgentReadTimeout bounds the read, made under the hub's lock, that a stuck store would
// otherwise hold for every publisher.
const urgentReadTimeout = 2 * time.Second

// urgentDraft is what a stored draft says of its urgency (workorder.Draft's fields).
type urgentDraft struct {
	Place   string   `json:"place"`
	Summary string   `json:"summary"`
	Reasons []string `json:"urgent_reasons"`
}

// urgentLocked is the day's urgent calls still to be seen, masked as admins see them live,
// oldest first: the wall puts each on top of its list, so it shows them newest first. The
// caller holds the hub's lock, under which every event is stored, so the read is the state
// at the cut. A store that fails costs the list, logged, not the socket.
func (d *Desk) urgentLocked() []wireEvent {
	from := d.today()
	ctx, cancel := context.WithTimeout(d.ctx, urgentReadTimeout)
	defer cancel()
	calls, err := d.st.UrgentCalls(ctx, from, from.AddDate(0, 0, 1), maxUrgentShown)
	if err != nil {
		d.log.Warn("desk: the wallboard's urgent calls were not read", "err", err)
		return nil
	}
	out := make([]wireEvent, 0, len(calls))
	for _, c := range slices.Backward(calls) {
		ev, err := urgentEvent(c)
		if err != nil {
			d.log.Warn("desk: an urgent call's draft was not read", "call", c.CallID, "err", err)
			continue
		}
		out = append(out, ev)
	}
	return out
}

// urgentEvent is the workorder.urgent event of an urgent call, with the draft's latest
// place and summary, masked for admins.
func urgentEvent(c store.UrgentCall) (wireEvent, error) {
	var dr urgentDraft
	if err := decode(TypeWorkOrderDraft, c.Draft, &dr); err != nil {
		return wireEvent{}, err
	}
	raw, err := json.Marshal(WorkOrderUrgentData{Seat: c.Seat, Reasons: dr.Reasons, Place: dr.Place, Summary: dr.Summary})
	if err != nil {
		return wireEvent{}, err
	}
	masked, err := redactPayload(TypeWorkOrderUrgent, raw)
	if err != nil {
		return wireEvent{}, err
	}
	return wireEvent{Type: TypeWorkOrderUrgent, Time: c.At, CallID: c.CallID, Data: masked}, nil
}
