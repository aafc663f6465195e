package callflow

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

// Publisher stores an event and pushes it to the screens that may see it (the desk).
type Publisher interface {
	Publish(ctx context.Context, ev desk.Event) (desk.Event, error)
}

// LegWriter stores rows beside the events (the store).
type LegWriter interface {
	Write(ctx context.Context, rows ...store.Row) error
}

// ScreensConfig are the collaborators of Screens.
type ScreensConfig struct {
	Publisher  Publisher
	Store      LegWriter
	Classifier *dispatch.Classifier
	Hotspots   *dispatch.Hotspots
	// WorkOrders, when set, keeps each call's work-order draft (callflow/workorder.go).
	WorkOrders *WorkOrders
	// Ranker, when set (the LLM backend), ranks departments after each final of the caller
	// (callflow/llmdispatch.go); the local tracker's suggestions show until it answers.
	Ranker Ranker
	// HotspotWindow is reported with each alert.
	HotspotWindow time.Duration
	// Robot, when set, is the 企业微信 or 钉钉 group robot each raised alert is posted to,
	// in the background with the robot's own retries (dispatch.Webhook).
	Robot AlertRobot
	// Engine names the default recogniser in engine health events.
	Engine string
	// ExpireEvery is how often alerts past their window are taken off the wallboard
	// (default 1 minute).
	ExpireEvery time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// Screens turns what happens on calls into the agent screens' events (stored, then
// pushed) and runs dispatch: the caller's growing transcript feeds a tracker whose
// suggestions go to the seat's screen, and each ended call feeds hotspot detection. It is
// the flow's Observer and TranscriptSink.
type Screens struct {
	cfg   ScreensConfig
	log   *slog.Logger
	calls sync.Map // call id → *callText
	llm   llmDispatch

	stop chan struct{}
	// ctx ends at Close: it stops robot posts still retrying; postMu orders new posts
	// against it.
	ctx    context.Context
	cancel context.CancelFunc
	postMu sync.Mutex
	once   sync.Once
	bg     sync.WaitGroup
}

// NewScreens builds the screens' observer.
func NewScreens(cfg ScreensConfig) *Screens {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ExpireEvery <= 0 {
		cfg.ExpireEvery = time.Minute
	}
	e := &Screens{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if cfg.Hotspots != nil {
		e.bg.Add(1)
		go e.expireAlerts(cfg.ExpireEvery)
	}
	return e
}

// callText is one call's transcript as dispatch sees it.
type callText struct {
	mu      sync.Mutex
	finals  []string
	partial string
	tracker *dispatch.Tracker
	shown   []dispatch.Suggestion
}

func (e *Screens) publish(ev desk.Event) {
	if ev.Time.IsZero() {
		ev.Time = e.cfg.Now()
	}
	// Publishing outlives the call's context: an event of a call that just ended must
	// still be stored.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.cfg.Publisher.Publish(ctx, ev); err != nil {
		e.log.Error("publishing event", "type", ev.Type, "call", ev.CallID, "err", err)
	}
}

// SeatChanged publishes a seat's new state.
func (e *Screens) SeatChanged(c seat.Change) {
	e.publish(desk.Event{Type: desk.TypeSeatState, Time: c.At, Seat: c.Seat, Data: desk.SeatStateData{State: string(c.To)}})
}

// CallArrived publishes the call's arrival as a seat-less offer, for admins: it writes the
// call's row before the caller is queued, so a call the process stops under is not lost.
func (e *Screens) CallArrived(ci *Info) {
	e.calls.Store(ci.ID, &callText{tracker: dispatch.NewTracker(e.cfg.Classifier, dispatch.TrackerOptions{})})
	e.draftBegin(ci)
	e.publish(desk.Event{Type: desk.TypeOffered, Time: ci.Offered, CallID: ci.ID,
		Data: desk.CallOfferedData{From: ci.From, To: ci.Line, Queue: ci.Line}})
}

// CallOffered publishes each seat the call rings.
func (e *Screens) CallOffered(ci *Info) {
	e.publish(desk.Event{Type: desk.TypeOffered, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallOfferedData{From: ci.From, To: ci.Line, Queue: ci.Line}})
}

// CallAnswered publishes the answer with the caller's wait.
func (e *Screens) CallAnswered(ci *Info) {
	e.publish(desk.Event{Type: desk.TypeAnswered, Time: ci.Answered, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallAnsweredData{WaitMS: ci.Answered.Sub(ci.Offered).Milliseconds()}})
}

// CallEnded gives the call its final suggestion, stores its legs and publishes its end.
func (e *Screens) CallEnded(ci *Info, outcome Outcome, cause error) {
	v, ok := e.calls.LoadAndDelete(ci.ID)
	if ok && outcome == Completed {
		e.finalSuggestion(ci, v.(*callText))
	}
	ct, _ := v.(*callText)
	e.draftEnd(ci, ct, outcome)
	e.forgetRanker(ci.ID)
	if !ci.Answered.IsZero() {
		e.writeLegs(ci)
	}
	reason := outcome.String()
	if cause != nil {
		reason += ": " + cause.Error()
	}
	e.publish(desk.Event{Type: desk.TypeEnded, Time: ci.Ended, CallID: ci.ID, Seat: ci.Seat,
		Data: desk.CallEndedData{Reason: reason, Failed: outcome == Failed, Survey: ci.Survey.String()}})
}

// writeLegs records the call's two B2BUA dialogs.
func (e *Screens) writeLegs(ci *Info) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end := ci.Ended
	err := e.cfg.Store.Write(ctx,
		store.Leg{CallID: ci.ID, Leg: "caller", Peer: ci.CallerMedia.Addr.String(), Codec: ci.CallerMedia.Codec, StartedAt: ci.Answered, EndedAt: &end,
			Quality: legQuality(ci.CallerQuality)},
		store.Leg{CallID: ci.ID, Leg: "agent", Peer: ci.Seat + " " + ci.AgentMedia.Addr.String(), Codec: ci.AgentMedia.Codec, StartedAt: ci.Answered, EndedAt: &end,
			Quality: legQuality(ci.AgentQuality)})
	if err != nil {
		e.log.Error("storing the call's legs", "call", ci.ID, "err", err)
	}
}

// DTMF publishes a key the caller or the seat pressed.
func (e *Screens) DTMF(ci *Info, leg string, digit rune) {
	e.publish(desk.Event{Type: desk.TypeDTMF, CallID: ci.ID, Seat: ci.Seat, Data: desk.DTMFData{Digit: string(digit)}})
}

// Result publishes a recognition result and, for the caller, updates the suggestion.
func (e *Screens) Result(ci *Info, channel string, r asr.Result, delayed bool) {
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
	if changed && !e.llmOwns(ci.ID) {
		e.suggest(ci, sugg)
	}
	if r.Final {
		e.draftHeard(ci, ct)
		e.askRanker(ci, text)
	}
}

func (e *Screens) finalSuggestion(ci *Info, ct *callText) {
	ct.mu.Lock()
	text := joinFinals(ct.finals, ct.partial)
	sugg := ct.tracker.Final(text)
	ct.mu.Unlock()
	if len(sugg) == 0 || text == "" {
		return
	}
	e.suggest(ci, sugg)
	for _, a := range e.cfg.Hotspots.Observe(ci.ID, sugg[0].ID, text) {
		e.publishAlert(a)
	}
}

func (e *Screens) suggest(ci *Info, sugg []dispatch.Suggestion) {
	deps := make([]desk.Department, len(sugg))
	for i, s := range sugg {
		deps[i] = desk.Department{ID: s.ID, Name: s.Name, NameEN: s.NameEN, Score: s.Score, Evidence: s.Evidence}
	}
	e.publish(desk.Event{Type: desk.TypeSuggested, CallID: ci.ID, Seat: ci.Seat, Data: desk.SuggestedData{Departments: deps,
		Tentative: len(sugg) > 0 && sugg[0].Tentative}})
}

// StreamFailed tells admins that a leg is not transcribed live.
func (e *Screens) StreamFailed(ci *Info, channel string, err error) {
	name := e.cfg.Engine
	detail := fmt.Sprintf("%s leg of call %s: %v", channel, ci.ID, err)
	if errors.Is(err, asr.ErrStreamLimit) {
		detail = fmt.Sprintf("%s leg of call %s: engine at its stream limit; transcribed after the call", channel, ci.ID)
	}
	e.publish(desk.Event{Type: desk.TypeASRHealth, Data: desk.ASRHealthData{Engine: name, OK: false, Detail: detail}})
}

// LeftOpen finds what a previous run left open (the store): calls and hotspot alerts.
type LeftOpen interface {
	OpenCalls(ctx context.Context) ([]store.OpenCall, error)
	AlertStore
}

// Reconcile ends the calls a previous run stopped under (a crash, kill -9, power loss):
// each is marked interrupted at the last time anything was heard of it, and its
// call.ended is pushed, so no screen shows it as live again. Their recordings stay as the
// recorder last flushed them, playable. The hotspot alerts it left open are taken up
// again. It reports how many calls it closed.
func (e *Screens) Reconcile(ctx context.Context, st LeftOpen) (int, error) {
	if err := e.restoreAlerts(ctx, st); err != nil {
		return 0, fmt.Errorf("hotspot alerts: %w", err)
	}
	open, err := st.OpenCalls(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range open {
		e.log.Warn("closing a call the previous run left open", "call", c.ID, "seat", c.Seat, "last_seen", c.LastSeen)
		e.publish(desk.Event{Type: desk.TypeEnded, Time: c.LastSeen, CallID: c.ID, Seat: c.Seat,
			Data: desk.CallEndedData{Reason: "interrupted: the gateway stopped during the call", Failed: c.AnsweredAt == nil}})
	}
	return len(open), nil
}
