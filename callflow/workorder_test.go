package callflow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/desk"
	"lianxin/dispatch"
	"lianxin/store"
	"lianxin/workorder"
)

// events collects what is published, as the desk would receive it.
type events struct {
	mu  sync.Mutex
	evs []desk.Event
	ch  chan desk.Event
}

func newEvents() *events { return &events{ch: make(chan desk.Event, 64)} }

func (p *events) Publish(_ context.Context, ev desk.Event) (desk.Event, error) {
	p.mu.Lock()
	p.evs = append(p.evs, ev)
	p.mu.Unlock()
	select {
	case p.ch <- ev:
	default:
	}
	return ev, nil
}

func (p *events) ofType(typ string) []desk.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []desk.Event
	for _, ev := range p.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func draftBuilder(t *testing.T) (*dispatch.Classifier, *workorder.Builder) {
	t.Helper()
	c, err := dispatch.NewDefault()
	require.NoError(t, err)
	b, err := workorder.NewBuilder(workorder.Config{Classifier: c})
	require.NoError(t, err)
	return c, b
}

func TestDraftFillsInDuringTheCall(t *testing.T) {
	clf, b := draftBuilder(t)
	pub := newEvents()
	wo := NewWorkOrders(WorkOrdersConfig{Builder: b, Publisher: pub})
	sc := NewScreens(ScreensConfig{Publisher: pub, Store: nopLegs{}, Classifier: clf, WorkOrders: wo,
		Hotspots: dispatch.NewHotspots(dispatch.HotspotConfig{}, time.Now)})
	ci := &Info{ID: "call-1", From: "<sip:13905801111@10.0.0.9>;tag=x", Seat: "seat-03"}
	sc.CallArrived(ci)
	said := []string{"喂你好 我们东湖小区七号楼那边", "楼道里一股很浓的煤气味", "我手机幺三九零五八零二二二二 你们快点来人"}
	for i, s := range said {
		sc.Result(ci, "caller", asr.Result{UtteranceID: i, Text: s[:len(s)/2], Confidence: -1}, false)
		sc.Result(ci, "caller", asr.Result{UtteranceID: i, Text: s, Final: true, Confidence: 0.9}, false)
		sc.Result(ci, "agent", asr.Result{UtteranceID: i, Text: "好的您说", Final: true}, false)
	}
	drafts := pub.ofType(desk.TypeWorkOrderDraft)
	require.Len(t, drafts, 3, "one draft per final the caller said, none for partials or the agent")
	first := drafts[0].Data.(workorder.Draft)
	require.Equal(t, "13905801111", first.CallerNumber)
	require.Equal(t, "seat-03", drafts[0].Seat)
	require.False(t, first.Urgent)
	urgent := pub.ofType(desk.TypeWorkOrderUrgent)
	require.Len(t, urgent, 1, "the admins are alerted once, as soon as it is said")
	require.Empty(t, urgent[0].Seat, "the alert goes to admins")
	require.Equal(t, []string{"燃气泄漏"}, urgent[0].Data.(desk.WorkOrderUrgentData).Reasons)

	sc.CallEnded(ci, Completed, nil)
	require.NoError(t, wo.Close())
	require.NoError(t, wo.Close())
	drafts = pub.ofType(desk.TypeWorkOrderDraft)
	last := drafts[len(drafts)-1].Data.(workorder.Draft)
	require.True(t, last.Complete)
	require.Equal(t, "13905802222", last.CallbackNumber)
	require.True(t, last.Urgent)
	require.Contains(t, last.Summary, "煤气味")
	require.Len(t, pub.ofType(desk.TypeWorkOrderUrgent), 1)
	require.NoError(t, sc.Close())
}

func TestUnansweredCallHasNoDraft(t *testing.T) {
	clf, b := draftBuilder(t)
	pub := newEvents()
	wo := NewWorkOrders(WorkOrdersConfig{Builder: b, Publisher: pub})
	sc := NewScreens(ScreensConfig{Publisher: pub, Store: nopLegs{}, Classifier: clf, WorkOrders: wo,
		Hotspots: dispatch.NewHotspots(dispatch.HotspotConfig{}, time.Now)})
	ci := &Info{ID: "call-2", From: "sip:100@x"}
	sc.CallArrived(ci)
	sc.CallEnded(ci, Abandoned, nil)
	require.NoError(t, wo.Close())
	require.Empty(t, pub.ofType(desk.TypeWorkOrderDraft))
	require.NoError(t, sc.Close())
}

func TestCallerNumber(t *testing.T) {
	for in, want := range map[string]string{
		"sip:13805801234@gw":                   "13805801234",
		`"张" <sip:057712345678@10.0.0.1:5060>`: "057712345678",
		"<sip:110@h;user=phone>;tag=1":         "110",
		"13805801234":                          "13805801234",
	} {
		require.Equal(t, want, CallerNumber(in), in)
	}
}

type nopLegs struct{}

func (nopLegs) Write(context.Context, ...store.Row) error { return nil }

// clock is the tests' time: retries become due when the test says so.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// receiver is a work-order system on loopback: it checks each delivery's signature, keeps
// one order per idempotency key and answers its number; behave may answer otherwise.
type receiver struct {
	secret []byte
	clock  *clock
	behave func(n int, w http.ResponseWriter, r *http.Request) bool
	got    chan delivery

	mu     sync.Mutex
	n      int
	orders map[string]string
}

type delivery struct {
	key  string
	body string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := workorder.Verify(rc.secret, r.Header.Get(workorder.HeaderTimestamp), r.Header.Get(workorder.HeaderSignature),
		body, rc.clock.Now(), 5*time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	key := r.Header.Get(workorder.HeaderIdempotency)
	rc.mu.Lock()
	rc.n++
	n := rc.n
	rc.mu.Unlock()
	rc.got <- delivery{key: key, body: string(body)}
	if rc.behave != nil && rc.behave(n, w, r) {
		return
	}
	rc.mu.Lock()
	no, ok := rc.orders[key]
	if !ok {
		no = "GD-" + key
		rc.orders[key] = no
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(workorder.Receipt{OrderNo: no})
}

// signalQueue tells the test when the worker has recorded a retry.
type signalQueue struct {
	OutboxQueue
	retried chan string
}

func (q signalQueue) Retry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	err := q.OutboxQueue.Retry(ctx, id, next, lastErr)
	q.retried <- lastErr
	return err
}
