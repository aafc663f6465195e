package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/seat"
	"lianxin/store"
)

// events turns what happens on calls into the agent screens' events (stored, then pushed)
// and runs dispatch: the caller's growing transcript feeds a tracker whose suggestions go
// to the seat's screen, and each ended call feeds hotspot detection.
type events struct {
	app   *App
	desk  *desk.Desk
	store store.Store
	clf   *dispatch.Classifier
	hot   *dispatch.Hotspots
	log   *slog.Logger
	calls sync.Map // call id → *callText
}

// callText is one call's transcript as dispatch sees it.
type callText struct {
	mu      sync.Mutex
	finals  []string
	partial string
	tracker *dispatch.Tracker
	shown   []dispatch.Suggestion
}

func (e *events) publish(ev desk.Event) {
	if ev.Time.IsZero() {
		ev.Time = e.app.now()
	}
	// Publishing outlives the call's context: an event of a call that just ended must
	// still be stored.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.desk.Publish(ctx, ev); err != nil {
		e.log.Error("publishing event", "type", ev.Type, "call", ev.CallID, "err", err)
	}
}

func (e *events) seatChanged(c seat.Change) {
	e.publish(desk.Event{Type: desk.TypeSeatState, Time: c.At, Seat: c.Seat, Data: desk.SeatStateData{State: string(c.To)}})
}

func (e *events) callOffered(ci *callInfo) {
	if _, loaded := e.calls.LoadOrStore(ci.ID, &callText{tracker: dispatch.NewTracker(e.clf, dispatch.TrackerOptions{})}); !loaded {
		// First offer: a seat-less event, for admins, marks the arrival so queue wait counts.
		e.publish(desk.Event{Type: desk.TypeOffered, Time: ci.Offered, CallID: ci.ID,
			Data: desk.CallOfferedData{From: ci.From, To: ci.Line, Queue: ci.Line}})
	}
	e.publish(desk.Event{Type: desk.TypeOffered, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallOfferedData{From: ci.From, To: ci.Line, Queue: ci.Line}})
}

func (e *events) callAnswered(ci *callInfo) {
	e.publish(desk.Event{Type: desk.TypeAnswered, Time: ci.Answered, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallAnsweredData{WaitMS: ci.Answered.Sub(ci.Offered).Milliseconds()}})
}

func (e *events) callEnded(ci *callInfo, outcome string, cause error) {
	if v, ok := e.calls.LoadAndDelete(ci.ID); ok && outcome == "completed" {
		e.finalSuggestion(ci, v.(*callText))
	}
	if !ci.Answered.IsZero() {
		e.writeLegs(ci)
	}
	reason := outcome
	if cause != nil {
		reason = outcome + ": " + cause.Error()
	}
	e.publish(desk.Event{Type: desk.TypeEnded, Time: ci.Ended, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallEndedData{Reason: reason, Failed: outcome == "failed"}})
}

// writeLegs records the call's two B2BUA dialogs.
func (e *events) writeLegs(ci *callInfo) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end := ci.Ended
	err := e.store.Write(ctx,
		store.Leg{CallID: ci.ID, Leg: "caller", Peer: ci.CallerMedia.Addr.String(), Codec: ci.CallerMedia.Codec, StartedAt: ci.Answered, EndedAt: &end},
		store.Leg{CallID: ci.ID, Leg: "agent", Peer: ci.Seat + " " + ci.AgentMedia.Addr.String(), Codec: ci.AgentMedia.Codec, StartedAt: ci.Answered, EndedAt: &end})
	if err != nil {
		e.log.Error("storing the call's legs", "call", ci.ID, "err", err)
	}
}

func (e *events) dtmf(ci *callInfo, leg string, digit rune) {
	e.publish(desk.Event{Type: desk.TypeDTMF, CallID: ci.ID, Seat: ci.Seat, Data: desk.DTMFData{Digit: string(digit)}})
}

// result publishes a recognition result and, for the caller, updates the suggestion.
func (e *events) result(ci *callInfo, channel string, r asr.Result, delayed bool) {
	typ := desk.TypePartial
	if r.Final {
		typ = desk.TypeFinal
	}
	if r.Text == "" && !r.Gap {
		return
	}
	conf := r.Confidence
	if conf < 0 {
		conf = 0
	}
	e.publish(desk.Event{Type: typ, CallID: ci.ID, Seat: ci.Seat, Data: desk.TranscriptData{
		Channel: channel, UtteranceID: channel + "-" + strconv.Itoa(r.UtteranceID), Text: r.Text,
		StartMS: r.Start.Milliseconds(), EndMS: r.End.Milliseconds(), Confidence: conf, Delayed: delayed}})
	if channel != "caller" || r.Gap {
		return
	}
	v, ok := e.calls.Load(ci.ID)
	if !ok {
		return // delayed transcription after the call: no live suggestion to update
	}
	ct := v.(*callText)
	ct.mu.Lock()
	if r.Final {
		ct.finals, ct.partial = append(ct.finals, r.Text), ""
	} else {
		ct.partial = r.Text
	}
	text := joinFinals(ct.finals, ct.partial)
	sugg, changed := ct.tracker.Update(text)
	if changed {
		ct.shown = sugg
	}
	ct.mu.Unlock()
	if changed {
		e.suggest(ci, sugg)
	}
}

func (e *events) finalSuggestion(ci *callInfo, ct *callText) {
	ct.mu.Lock()
	text := joinFinals(ct.finals, ct.partial)
	sugg := ct.tracker.Final(text)
	ct.mu.Unlock()
	if len(sugg) == 0 || text == "" {
		return
	}
	e.suggest(ci, sugg)
	for _, a := range e.hot.Observe(ci.ID, sugg[0].ID, text) {
		e.publish(desk.Event{Type: desk.TypeHotspot, Data: desk.HotspotData{Department: a.Department,
			Topic: fmt.Sprintf("%s @ %s", a.Issue, a.Place), Count: len(a.CallIDs), Examples: a.CallIDs,
			WindowS: int(e.app.cfg.Dispatch.HotspotWindow.Seconds())}})
	}
}

func (e *events) suggest(ci *callInfo, sugg []dispatch.Suggestion) {
	deps := make([]desk.Department, len(sugg))
	for i, s := range sugg {
		deps[i] = desk.Department{ID: s.ID, Name: s.Name, Score: s.Score, Evidence: s.Evidence}
	}
	e.publish(desk.Event{Type: desk.TypeSuggested, CallID: ci.ID, Seat: ci.Seat, Data: desk.SuggestedData{Departments: deps}})
}

func (e *events) streamFailed(ci *callInfo, channel string, err error) {
	name := e.app.cfg.ASR.Default
	detail := fmt.Sprintf("%s leg of call %s: %v", channel, ci.ID, err)
	if errors.Is(err, asr.ErrStreamLimit) {
		detail = fmt.Sprintf("%s leg of call %s: engine at its stream limit; transcribed after the call", channel, ci.ID)
	}
	e.publish(desk.Event{Type: desk.TypeASRHealth, Data: desk.ASRHealthData{Engine: name, OK: false, Detail: detail}})
}
