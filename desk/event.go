package desk

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"lianxin/store"
)

// Event types of the WebSocket envelope (see DESIGN.md). Every type but TypePartial, TypeHello
// and TypeError is stored before it is pushed and carries a seq.
const (
	TypeSeatState = "seat.state"
	TypeOffered   = "call.offered"
	TypeAnswered  = "call.answered"
	TypeEnded     = "call.ended"
	TypePartial   = "transcript.partial"
	TypeFinal     = "transcript.final"
	TypeSuggested = "dispatch.suggested"
	TypeDecided   = "dispatch.decided"
	TypeHotspot   = "hotspot.alert"
	TypeDTMF      = "dtmf"
	TypeASRHealth = "asr.health"
	// TypeWorkOrderDraft carries the call's work-order draft (package workorder's Draft) as
	// it fills in; TypeWorkOrderUrgent alerts admins to an urgent call (WorkOrderUrgentData);
	// TypeWorkOrderStatus is a submitted order's delivery (WorkOrderStatus).
	TypeWorkOrderDraft  = "workorder.draft"
	TypeWorkOrderUrgent = "workorder.urgent"
	TypeWorkOrderStatus = "workorder.status"
	TypeHello           = "hello"
	TypeError           = "error"
)

// Client message types, the states an agent may choose, and the largest payload Publish takes.
const (
	typeDecide     = "dispatch.decide"
	typeSetState   = "seat.set_state"
	seatStateAway  = "away"
	seatStateAvail = "available"
	maxEventBytes  = 1 << 20
)

// Event is the envelope pushed to screens:
// {"seq":N,"type":"…","time":"RFC3339Nano","call_id":"…","seat":"seat-07","data":{…}}.
// Seq is 0 (and omitted on the wire) for live-only events such as transcript partials. Seat
// decides who sees it: that seat's screens and every admin; an event without a seat
// (hotspot.alert, asr.health) reaches admins only. Data is any JSON-marshalable value; the
// typed payloads below are what the screens understand, and replayed events carry
// json.RawMessage.
type Event struct {
	Seq    int64     `json:"seq,omitempty"`
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	CallID string    `json:"call_id,omitempty"`
	Seat   string    `json:"seat,omitempty"`
	Data   any       `json:"data,omitempty"`
	// Unsaved marks an event pushed while the store fails: it is written once the store
	// recovers, with a seq then.
	Unsaved bool `json:"unsaved,omitempty"`
}

// SeatStateData is the payload of seat.state: the seat package's names, "offline",
// "available", "ringing", "talking", "wrapup", "away".
type SeatStateData struct {
	State string `json:"state"`
}

// CallOfferedData is the payload of call.offered: the call is ringing on Event.Seat.
type CallOfferedData struct {
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	Queue string `json:"queue,omitempty"`
}

// CallAnsweredData is the payload of call.answered.
type CallAnsweredData struct {
	WaitMS int64 `json:"wait_ms,omitempty"`
}

// CallEndedData is the payload of call.ended. Failed marks a call the gateway could not
// complete (no seat, error); an unanswered call that did not fail counts as abandoned.
type CallEndedData struct {
	Reason string `json:"reason,omitempty"`
	Failed bool   `json:"failed,omitempty"`
	// Survey is the caller's satisfaction answer when the survey ran: "satisfied", "basic",
	// "dissatisfied" or "no_answer".
	Survey string `json:"survey,omitempty"`
}

// TranscriptData is the payload of transcript.partial and transcript.final.
type TranscriptData struct {
	Channel     string  `json:"channel"` // "caller" or "agent"
	UtteranceID string  `json:"utterance_id"`
	Text        string  `json:"text"`
	StartMS     int64   `json:"start_ms"`
	EndMS       int64   `json:"end_ms"`
	Confidence  float64 `json:"confidence"`
	// Delayed marks a leg transcribed from the recording after the call, because no live
	// stream was free for it.
	Delayed bool `json:"delayed,omitempty"`
}

// Department is one suggested department.
type Department struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	NameEN   string   `json:"name_en,omitempty"`
	Score    float64  `json:"score"`
	Evidence []string `json:"evidence,omitempty"`
}

// SuggestedData is the payload of dispatch.suggested, best first.
type SuggestedData struct {
	Departments []Department `json:"departments"`
	// Tentative marks a live suggestion below the confidence an agent can rely on; the
	// screen shows it differently.
	Tentative bool `json:"tentative,omitempty"`
	// Backend names what ranked them when the LLM backend is configured: "llm", or
	// "local" when the local classifier stood in.
	Backend string `json:"backend,omitempty"`
}

// DecidedData is the payload of dispatch.decided, published by the desk when an agent decides.
type DecidedData struct {
	Department string `json:"department"`
	Suggested  string `json:"suggested,omitempty"`
	Accepted   bool   `json:"accepted"`
}

// HotspotData is the payload of hotspot.alert.
type HotspotData struct {
	// ID is the alert's; each change of an alert (raised, grown, acknowledged, closed,
	// expired) is a new hotspot.alert with the same ID and its State.
	ID         string    `json:"id,omitempty"`
	State      string    `json:"state,omitempty"`
	Department string    `json:"department,omitempty"`
	Issue      string    `json:"issue,omitempty"`    // the issue type's name, e.g. 电梯故障
	IssueID    string    `json:"issue_id,omitempty"` // e.g. lift-fault
	Place      string    `json:"place,omitempty"`
	Topic      string    `json:"topic,omitempty"`
	Count      int       `json:"count"`
	WindowS    int       `json:"window_s,omitempty"`
	Examples   []string  `json:"examples,omitempty"`
	AckBy      string    `json:"ack_by,omitempty"`
	AckAt      time.Time `json:"ack_at,omitzero"`
	ClosedBy   string    `json:"closed_by,omitempty"`
	// RaisedAt is when the alert was raised; LastCallAt when its latest call came. An open
	// alert lapses WindowS after LastCallAt unless another call joins it.
	RaisedAt   time.Time `json:"raised_at,omitzero"`
	LastCallAt time.Time `json:"last_call_at,omitzero"`
}

// DTMFData is the payload of dtmf.
type DTMFData struct {
	Digit string `json:"digit"`
}

// ASRHealthData is the payload of asr.health.
type ASRHealthData struct {
	Engine  string `json:"engine"`
	OK      bool   `json:"ok"`
	Streams int    `json:"streams,omitempty"`
	LagMS   int64  `json:"lag_ms,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// wireEvent is Event with its payload already encoded.
type wireEvent struct {
	Seq     int64           `json:"seq,omitempty"`
	Type    string          `json:"type"`
	Time    time.Time       `json:"time"`
	CallID  string          `json:"call_id,omitempty"`
	Seat    string          `json:"seat,omitempty"`
	Unsaved bool            `json:"unsaved,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// decode unmarshals raw into v, naming the event type in the error.
func decode(typ string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("desk: %s data: %w", typ, err)
	}
	return nil
}

// rowsFor maps a stored event to the domain rows written in the same transaction, so that a
// final utterance or a suggestion is never pushed without being persisted.
func rowsFor(ev Event, raw json.RawMessage) ([]store.Row, error) {
	need := func() error {
		if ev.CallID == "" {
			return fmt.Errorf("desk: %s without call_id", ev.Type)
		}
		return nil
	}
	switch ev.Type {
	case TypeSeatState:
		var d SeatStateData
		if err := decode(ev.Type, raw, &d); err != nil {
			return nil, err
		}
		if ev.Seat == "" || d.State == "" {
			return nil, errors.New("desk: seat.state needs seat and data.state")
		}
		return []store.Row{store.SeatState{Seat: ev.Seat, State: d.State, At: ev.Time}}, nil
	case TypeOffered:
		var d CallOfferedData
		if err := errors.Join(need(), decode(ev.Type, raw, &d)); err != nil {
			return nil, err
		}
		return []store.Row{store.Call{ID: ev.CallID, From: d.From, To: d.To, Queue: d.Queue, Seat: ev.Seat, OfferedAt: ev.Time}}, nil
	case TypeAnswered:
		if err := need(); err != nil {
			return nil, err
		}
		return []store.Row{store.CallAnswered{CallID: ev.CallID, Seat: ev.Seat, At: ev.Time}}, nil
	case TypeEnded:
		var d CallEndedData
		if err := errors.Join(need(), decode(ev.Type, raw, &d)); err != nil {
			return nil, err
		}
		return []store.Row{store.CallEnded{CallID: ev.CallID, At: ev.Time, Reason: d.Reason, Failed: d.Failed, Survey: d.Survey}}, nil
	case TypeFinal:
		var d TranscriptData
		if err := errors.Join(need(), decode(ev.Type, raw, &d)); err != nil {
			return nil, err
		}
		return []store.Row{store.Utterance{CallID: ev.CallID, Seat: ev.Seat, Channel: d.Channel,
			UtteranceID: d.UtteranceID, Text: d.Text, StartMS: d.StartMS, EndMS: d.EndMS,
			Confidence: d.Confidence, At: ev.Time}}, nil
	case TypeSuggested:
		var d SuggestedData
		if err := errors.Join(need(), decode(ev.Type, raw, &d)); err != nil {
			return nil, err
		}
		deps := make([]store.Department, len(d.Departments))
		for i, x := range d.Departments {
			deps[i] = store.Department{ID: x.ID, Name: x.Name, Score: x.Score, Evidence: x.Evidence}
		}
		return []store.Row{store.Suggestion{CallID: ev.CallID, Seat: ev.Seat, Departments: deps, At: ev.Time}}, nil
	case TypeDecided:
		var d DecidedData
		if err := errors.Join(need(), decode(ev.Type, raw, &d)); err != nil {
			return nil, err
		}
		return []store.Row{store.Decision{CallID: ev.CallID, Seat: ev.Seat, Department: d.Department,
			Suggested: d.Suggested, Accepted: d.Accepted, At: ev.Time}}, nil
	case TypeWorkOrderDraft:
		if err := need(); err != nil {
			return nil, err
		}
		return []store.Row{store.WorkOrderDraft{CallID: ev.CallID, Seat: ev.Seat, Data: raw, At: ev.Time}}, nil
	case TypeHotspot:
		var d HotspotData
		if err := decode(ev.Type, raw, &d); err != nil {
			return nil, err
		}
		return []store.Row{store.Alert{ID: d.ID, State: d.State, Until: d.until(), Department: d.Department,
			Topic: d.Topic, Count: d.Count, Data: raw, At: ev.Time}}, nil
	}
	return nil, nil
}
