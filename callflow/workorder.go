package callflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"lianxin/desk"
	"lianxin/redact"
	"lianxin/store"
	"lianxin/workorder"
)

// WorkOrdersConfig are the collaborators of WorkOrders.
type WorkOrdersConfig struct {
	Builder   *workorder.Builder
	Publisher Publisher
	// Outbox keeps submitted orders until they are delivered; without it Submit fails.
	Outbox store.Outbox
	// Kick, when set, wakes the delivery worker after an order is queued.
	Kick func()
	// MaskDelivery masks callers' personal numbers in what is delivered (workorder.redact:
	// a destination that must not hold them).
	MaskDelivery bool
	Now          func() time.Time
	Logger       *slog.Logger
}

// WorkOrders keeps each live call's work-order draft: rebuilt on every final utterance of
// the caller, completed (with the language model's summary when there is one) after the
// call ends, each change published as workorder.draft. An urgent draft also alerts the
// admins, once per call. It owns the goroutines that complete drafts; Close waits for them.
type WorkOrders struct {
	cfg   WorkOrdersConfig
	log   *slog.Logger
	calls sync.Map // call id → *draftState

	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup
	once   sync.Once
}

type draftState struct {
	mu       sync.Mutex
	in       workorder.Input
	seat     string
	last     workorder.Draft
	alerted  bool
	complete bool
}

// NewWorkOrders builds the drafts' keeper.
func NewWorkOrders(cfg WorkOrdersConfig) *WorkOrders {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &WorkOrders{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel}
}

// Close stops completing drafts and waits for those under way. Safe to call twice.
func (w *WorkOrders) Close() error {
	w.once.Do(w.cancel)
	w.bg.Wait()
	return nil
}

// CallerNumber reads the caller ID of a From URI or header: sip:13805801234@host → the user.
func CallerNumber(from string) string {
	s := from
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = strings.TrimSuffix(s[i+1:], ">")
	}
	if u, err := url.Parse(s); err == nil && u.Opaque != "" {
		s = u.Opaque
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return s
}

// begin starts a call's draft with its caller ID.
func (w *WorkOrders) begin(ci *Info) {
	w.calls.Store(ci.ID, &draftState{in: workorder.Input{CallID: ci.ID, CallerNumber: CallerNumber(ci.From)}})
}

// Kick wakes the delivery worker, if there is one (an admin queued a dead letter again).
func (w *WorkOrders) Kick() {
	if w.cfg.Kick != nil {
		w.cfg.Kick()
	}
}

// Decide puts the agent's department in the call's draft.
func (w *WorkOrders) Decide(callID, dept string) {
	v, ok := w.calls.Load(callID)
	if !ok {
		return
	}
	s := v.(*draftState)
	s.mu.Lock()
	s.in.Department, s.in.Decided = dept, true
	s.mu.Unlock()
}

// heard rebuilds the draft from the caller's finals; suggested is dispatch's best
// department so far.
func (w *WorkOrders) heard(ci *Info, finals []string, suggested string) {
	v, ok := w.calls.Load(ci.ID)
	if !ok {
		return
	}
	s := v.(*draftState)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.complete {
		return
	}
	s.seat = ci.Seat
	s.in.Text = append(s.in.Text[:0], finals...)
	if !s.in.Decided {
		s.in.Department = suggested
	}
	w.show(s, w.cfg.Builder.Live(s.in))
}

// show publishes d when it differs from what the screen has, and alerts the admins the
// first time the call is urgent. Called with s.mu held, so a call's drafts go out in order.
func (w *WorkOrders) show(s *draftState, d workorder.Draft) {
	if reflect.DeepEqual(d, s.last) {
		return
	}
	s.last = d
	w.publish(desk.Event{Type: desk.TypeWorkOrderDraft, CallID: d.CallID, Seat: s.seat, Data: d})
	if d.Urgent && !s.alerted {
		s.alerted = true
		w.publish(desk.Event{Type: desk.TypeWorkOrderUrgent, CallID: d.CallID, Data: desk.WorkOrderUrgentData{
			Seat: s.seat, Reasons: d.UrgentReasons, Summary: d.Summary, Place: d.Place}})
	}
}

// end completes the call's draft in the background: the language model may take seconds
// and the call's teardown does not wait for it.
func (w *WorkOrders) end(ci *Info, finals []string, suggested string) {
	v, ok := w.calls.LoadAndDelete(ci.ID)
	if !ok {
		return
	}
	s := v.(*draftState)
	s.mu.Lock()
	s.seat = ci.Seat
	s.in.Text = append(s.in.Text[:0], finals...)
	if !s.in.Decided && suggested != "" {
		s.in.Department = suggested
	}
	s.mu.Unlock()
	if w.ctx.Err() != nil {
		return // closed: the gateway is stopping and the desk may be gone
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.complete = true
		w.show(s, w.cfg.Builder.Complete(w.ctx, s.in))
	}()
}

func (w *WorkOrders) publish(ev desk.Event) {
	if ev.Time.IsZero() {
		ev.Time = w.cfg.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.cfg.Publisher.Publish(ctx, ev); err != nil {
		w.log.Error("publishing event", "type", ev.Type, "call", ev.CallID, "err", err)
	}
}

// Submit queues the agent's order for delivery: fields is the form as the agent left it.
// The same fields submitted twice are one version; changed fields are the next version,
// with a key of its own. It implements desk.Options.OnWorkOrder.
func (w *WorkOrders) Submit(ctx context.Context, seat, callID string, fields json.RawMessage) (desk.WorkOrderStatus, error) {
	if w.cfg.Outbox == nil {
		return desk.WorkOrderStatus{}, errors.New("work orders are not delivered: no outbox")
	}
	var f workorder.Fields
	dec := json.NewDecoder(strings.NewReader(string(fields)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return desk.WorkOrderStatus{}, fmt.Errorf("%w: %w", desk.ErrBadWorkOrder, err)
	}
	if err := w.unmask(ctx, callID, &f); err != nil {
		return desk.WorkOrderStatus{}, err
	}
	if strings.TrimSpace(f.Summary) == "" {
		return desk.WorkOrderStatus{}, fmt.Errorf("%w: the summary is empty", desk.ErrBadWorkOrder)
	}
	canon, err := json.Marshal(f)
	if err != nil {
		return desk.WorkOrderStatus{}, err
	}
	sum := sha256.Sum256(canon)
	now := w.cfg.Now().UTC()
	sent := f
	if w.cfg.MaskDelivery {
		sent = f.Masked()
	}
	o, existed, err := w.cfg.Outbox.EnqueueOrder(ctx, store.NewOrder{CallID: callID, Seat: seat, Digest: hex.EncodeToString(sum[:]), At: now,
		Build: func(version int) (string, json.RawMessage, error) {
			key := workorder.Key(callID, version)
			body, err := json.Marshal(workorder.Order{IdempotencyKey: key, CallID: callID, Version: version, Seat: seat, SubmittedAt: now, Fields: sent})
			return key, body, err
		}})
	if err != nil {
		return desk.WorkOrderStatus{}, err
	}
	st := orderStatus(o)
	if !existed {
		w.publish(desk.Event{Type: desk.TypeWorkOrderStatus, CallID: callID, Seat: seat, Data: st})
		if w.cfg.Kick != nil {
			w.cfg.Kick()
		}
	}
	return st, nil
}

// unmask puts back the numbers and summary a form shows masked: a screen reloaded after
// the call replays the draft with its personal numbers masked (see desk's pii.go), and
// what the agent left masked is what the draft said, not asterisks to deliver.
func (w *WorkOrders) unmask(ctx context.Context, callID string, f *workorder.Fields) error {
	masked := func(s string) bool { return strings.ContainsRune(s, redact.MaskRune) }
	if !masked(f.CallerNumber) && !masked(f.CallbackNumber) && !masked(f.Summary) {
		return nil
	}
	stored, err := w.cfg.Outbox.Draft(ctx, callID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: masked fields and no draft to take them from", desk.ErrBadWorkOrder)
	}
	if err != nil {
		return err
	}
	var d workorder.Draft
	if err := json.Unmarshal(stored.Data, &d); err != nil {
		return err
	}
	for _, p := range []struct{ field, from *string }{{&f.CallerNumber, &d.CallerNumber},
		{&f.CallbackNumber, &d.CallbackNumber}, {&f.Summary, &d.Summary}} {
		if masked(*p.field) {
			*p.field = *p.from
		}
	}
	return nil
}

// Delivered publishes a delivery's end to the call's seat (and the admins): the
// receiver's order number, or a dead letter. It is the delivery worker's Notify.
func (w *WorkOrders) Delivered(d workorder.Delivery, r workorder.Receipt, err error) {
	st := desk.WorkOrderStatus{ID: d.ID, Key: d.Key, State: store.OrderDelivered, OrderNo: r.OrderNo}
	if err != nil {
		st.State, st.Error = store.OrderDead, err.Error()
	}
	w.publish(desk.Event{Type: desk.TypeWorkOrderStatus, CallID: d.CallID, Seat: d.Seat, Data: st})
}

func orderStatus(o store.OutboxOrder) desk.WorkOrderStatus {
	return desk.WorkOrderStatus{ID: o.ID, Key: o.Key, Version: o.Version, State: o.State, OrderNo: o.OrderNo, Error: o.LastError}
}

// draftBegin, draftHeard and draftEnd are the screens' hooks into the drafts.
func (e *Screens) draftBegin(ci *Info) {
	if e.cfg.WorkOrders != nil {
		e.cfg.WorkOrders.begin(ci)
	}
}

func (e *Screens) draftHeard(ci *Info, ct *callText) {
	if e.cfg.WorkOrders != nil {
		finals, top := ct.snapshot()
		e.cfg.WorkOrders.heard(ci, finals, top)
	}
}

func (e *Screens) draftEnd(ci *Info, ct *callText, outcome Outcome) {
	w := e.cfg.WorkOrders
	if w == nil {
		return
	}
	if ct == nil || outcome != Completed {
		w.calls.Delete(ci.ID) // no one spoke to the caller: no order
		return
	}
	finals, top := ct.snapshot()
	w.end(ci, finals, top)
}

// snapshot copies what the caller said and the best suggestion shown.
func (ct *callText) snapshot() ([]string, string) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	top := ""
	if len(ct.shown) > 0 {
		top = ct.shown[0].ID
	}
	return append([]string(nil), ct.finals...), top
}

// OutboxQueue is the store's outbox as the delivery worker's queue.
type OutboxQueue struct{ Outbox store.Outbox }

// Due implements workorder.Queue.
func (q OutboxQueue) Due(ctx context.Context, now time.Time, limit int) ([]workorder.Delivery, error) {
	os, err := q.Outbox.DueOrders(ctx, now, limit)
	out := make([]workorder.Delivery, len(os))
	for i, o := range os {
		out[i] = workorder.Delivery{ID: o.ID, CallID: o.CallID, Seat: o.Seat, Key: o.Key, Body: o.Body, Attempts: o.Attempts, Since: o.Since}
	}
	return out, err
}

// Delivered implements workorder.Queue.
func (q OutboxQueue) Delivered(ctx context.Context, id int64, r workorder.Receipt, at time.Time) error {
	return q.Outbox.OrderDelivered(ctx, id, r.OrderNo, at)
}

// Retry implements workorder.Queue.
func (q OutboxQueue) Retry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return q.Outbox.OrderRetry(ctx, id, next, lastErr)
}

// Dead implements workorder.Queue.
func (q OutboxQueue) Dead(ctx context.Context, id int64, lastErr string, at time.Time) error {
	return q.Outbox.OrderDead(ctx, id, lastErr, at)
}
