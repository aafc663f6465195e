package callflow

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/desk"
	"lianxin/store"
	"lianxin/workorder"
)

const testSecret = "s3cret"

// gateway is the part of the gateway that submits and delivers orders, on a store that
// outlives it (open it again with restart).
type gateway struct {
	t      *testing.T
	path   string
	st     *store.SQLite
	wo     *WorkOrders
	worker *workorder.Worker
	pub    *events
	q      signalQueue
	done   chan workorder.Delivery
}

func startGateway(t *testing.T, path, url string, clk *clock, cfg workorder.DeliveryConfig) *gateway {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	g := &gateway{t: t, path: path, st: st, pub: newEvents(), done: make(chan workorder.Delivery, 8)}
	g.q = signalQueue{OutboxQueue: OutboxQueue{Outbox: st}, retried: make(chan string, 8)}
	g.wo = NewWorkOrders(WorkOrdersConfig{Publisher: g.pub, Outbox: st, Now: clk.Now})
	cfg.URL, cfg.Secret = url, testSecret
	if cfg.Poll == 0 {
		cfg.Poll = time.Hour // passes come from Kick: the test decides when
	}
	g.worker, err = workorder.NewWorker(cfg, workorder.WorkerDeps{Queue: g.q, Now: clk.Now,
		Notify: func(d workorder.Delivery, r workorder.Receipt, err error) {
			g.wo.Delivered(d, r, err)
			g.done <- d
		}})
	require.NoError(t, err)
	g.wo.cfg.Kick = g.worker.Kick
	return g
}

func (g *gateway) stop() {
	require.NoError(g.t, g.worker.Close())
	require.NoError(g.t, g.worker.Close(), "Close is idempotent")
	require.NoError(g.t, g.wo.Close())
	require.NoError(g.t, g.st.Close())
}

func (g *gateway) submit(fields string) desk.WorkOrderStatus {
	st, err := g.wo.Submit(context.Background(), "seat-05", "call-9", json.RawMessage(fields))
	require.NoError(g.t, err)
	return st
}

func (g *gateway) order(id int64) store.OutboxOrder {
	os, err := g.st.Orders(context.Background(), store.WorkOrderFilter{CallID: "call-9"})
	require.NoError(g.t, err)
	for _, o := range os {
		if o.ID == id {
			return o
		}
	}
	g.t.Fatalf("order %d not stored", id)
	return store.OutboxOrder{}
}

// serve starts rc on addr ("127.0.0.1:0" for any port) and returns its URL.
func serve(t *testing.T, addr string, rc *receiver) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := &http.Server{Handler: rc}
	go func() { _ = srv.Serve(ln) }() // owned by the test: Close below ends it
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/orders"
}

func newReceiver(clk *clock) *receiver {
	return &receiver{secret: []byte(testSecret), clock: clk, got: make(chan delivery, 16), orders: map[string]string{}}
}

const fields = `{"caller_number":"13905801111","department":"gas","summary":"市民来电反映：楼道有煤气味。"}`

func TestDeliveryReceiverDownThenUp(t *testing.T) {
	clk := &clock{now: time.Now()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there yet
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), "http://"+addr+"/orders", clk, workorder.DeliveryConfig{})
	defer g.stop()

	st := g.submit(fields)
	require.Equal(t, "call-9:v1", st.Key)
	require.Equal(t, store.OrderPending, st.State)
	require.Contains(t, <-g.q.retried, "refused")

	rc := newReceiver(clk)
	serve(t, addr, rc)
	clk.Add(time.Minute)
	g.worker.Kick()
	got := <-rc.got
	require.Equal(t, "call-9:v1", got.key)
	<-g.done
	o := g.order(st.ID)
	require.Equal(t, store.OrderDelivered, o.State)
	require.Equal(t, "GD-call-9:v1", o.OrderNo)
	require.Equal(t, 2, o.Attempts)

	evs := g.pub.ofType(desk.TypeWorkOrderStatus)
	require.Len(t, evs, 2, "queued, then delivered")
	last := evs[1].Data.(desk.WorkOrderStatus)
	require.Equal(t, "seat-05", evs[1].Seat, "the agent sees the order number")
	require.Equal(t, "GD-call-9:v1", last.OrderNo)
}

func TestDeliveryServerErrorThenOK(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			http.Error(w, "database busy", http.StatusInternalServerError)
			return true
		}
		return false
	}
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), serve(t, "127.0.0.1:0", rc), clk, workorder.DeliveryConfig{Backoff: time.Second})
	defer g.stop()
	st := g.submit(fields)
	first := <-rc.got
	require.Equal(t, "HTTP 500", <-g.q.retried)
	clk.Add(2 * time.Second)
	g.worker.Kick()
	second := <-rc.got
	<-g.done
	require.Equal(t, first, second, "a retry is the same delivery: same key, same body")
	var body workorder.Order
	require.NoError(t, json.Unmarshal([]byte(second.body), &body))
	require.Equal(t, "call-9:v1", body.IdempotencyKey)
	require.Equal(t, 1, body.Version)
	require.Equal(t, "seat-05", body.Seat)
	require.Equal(t, "gas", body.Department)
	require.Equal(t, store.OrderDelivered, g.order(st.ID).State)
}

func TestDeliverySlowReceiverTimesOut(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			<-r.Context().Done() // slower than the gateway waits
			return true
		}
		return false
	}
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), serve(t, "127.0.0.1:0", rc), clk,
		workorder.DeliveryConfig{Timeout: 200 * time.Millisecond})
	defer g.stop()
	st := g.submit(fields)
	<-rc.got
	require.Contains(t, <-g.q.retried, "deadline exceeded")
	clk.Add(time.Hour)
	g.worker.Kick()
	<-rc.got
	<-g.done
	o := g.order(st.ID)
	require.Equal(t, store.OrderDelivered, o.State)
	require.Len(t, rc.orders, 1)
}

func TestDeliveryGatewayStoppedBeforeTheAnswer(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	answered := make(chan struct{})
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			// the receiver has taken the order, but the gateway stops before the answer
			rc.mu.Lock()
			rc.orders[r.Header.Get(workorder.HeaderIdempotency)] = "GD-1"
			rc.mu.Unlock()
			<-answered
			return true
		}
		return false
	}
	path := filepath.Join(t.TempDir(), "db")
	url := serve(t, "127.0.0.1:0", rc)
	g := startGateway(t, path, url, clk, workorder.DeliveryConfig{})
	st := g.submit(fields)
	first := <-rc.got
	g.stop() // the attempt in flight is abandoned
	close(answered)

	g = startGateway(t, path, url, clk, workorder.DeliveryConfig{})
	defer g.stop()
	g.worker.Kick()
	second := <-rc.got
	<-g.done
	require.Equal(t, first, second, "sent again with the same key and body")
	o := g.order(st.ID)
	require.Equal(t, store.OrderDelivered, o.State)
	require.Equal(t, "GD-1", o.OrderNo, "the receiver's first number, not a second order")
	require.Len(t, rc.orders, 1)
}

func TestDeliveryDeadLetterAndRetry(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	var up atomic.Bool
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if !up.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), serve(t, "127.0.0.1:0", rc), clk,
		workorder.DeliveryConfig{MaxAge: time.Hour, Backoff: time.Minute, MaxBackoff: 30 * time.Minute})
	defer g.stop()
	st := g.submit(fields)
	<-rc.got
	<-g.q.retried
	clk.Add(2 * time.Hour)
	g.worker.Kick()
	<-rc.got
	d := <-g.done
	require.Equal(t, st.ID, d.ID)
	o := g.order(st.ID)
	require.Equal(t, store.OrderDead, o.State)
	require.Equal(t, "HTTP 503", o.LastError)
	evs := g.pub.ofType(desk.TypeWorkOrderStatus)
	require.Equal(t, store.OrderDead, evs[len(evs)-1].Data.(desk.WorkOrderStatus).State)

	up.Store(true)
	_, err := g.st.RequeueOrder(context.Background(), st.ID, clk.Now())
	require.NoError(t, err)
	g.worker.Kick()
	got := <-rc.got
	<-g.done
	require.Equal(t, "call-9:v1", got.key)
	require.Equal(t, store.OrderDelivered, g.order(st.ID).State)
}

func TestSubmitVersions(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), serve(t, "127.0.0.1:0", rc), clk, workorder.DeliveryConfig{})
	defer g.stop()
	a := g.submit(fields)
	<-rc.got
	<-g.done
	b := g.submit(fields)
	require.Equal(t, a.Key, b.Key, "the same order twice is one delivery")
	c := g.submit(`{"summary":"市民来电反映：楼道有煤气味，已闻到三天。"}`)
	require.Equal(t, "call-9:v2", c.Key)
	<-rc.got
	<-g.done
	for _, bad := range []string{`{"summary":""}`, `{"summary":"x","invented":1}`, `[]`, `{"summary":3}`} {
		_, err := g.wo.Submit(context.Background(), "seat-05", "call-9", json.RawMessage(bad))
		require.ErrorIs(t, err, desk.ErrBadWorkOrder, bad)
	}
}

// A form reloaded after the call shows the draft's numbers masked; submitted as they are,
// the order carries the numbers the draft holds.
func TestSubmitMaskedFieldsTakeTheDraft(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), serve(t, "127.0.0.1:0", rc), clk, workorder.DeliveryConfig{})
	defer g.stop()
	_, err := g.wo.Submit(context.Background(), "seat-05", "call-9", json.RawMessage(`{"callback_number":"***********","summary":"x"}`))
	require.ErrorIs(t, err, desk.ErrBadWorkOrder, "no draft to unmask from")
	d := workorder.Draft{CallID: "call-9", Fields: workorder.Fields{CallbackNumber: "13805801234", Summary: "市民来电反映：停水。"}}
	data, err := json.Marshal(d)
	require.NoError(t, err)
	require.NoError(t, g.st.Write(context.Background(), store.WorkOrderDraft{CallID: "call-9", Seat: "seat-05", Data: data, At: clk.Now()}))
	g.submit(`{"callback_number":"***********","summary":"市民来电反映：停水，已核实。","place":"阳光花园"}`)
	got := <-rc.got
	<-g.done
	var o workorder.Order
	require.NoError(t, json.Unmarshal([]byte(got.body), &o))
	require.Equal(t, "13805801234", o.CallbackNumber)
	require.Equal(t, "市民来电反映：停水，已核实。", o.Summary, "what the agent wrote stays")
	require.Equal(t, "阳光花园", o.Place)
}

// A destination configured to hold no personal numbers (workorder.redact) receives the
// order with them masked; the order's other facts arrive as submitted.
func TestDeliveryMasked(t *testing.T) {
	clk := &clock{now: time.Now()}
	rc := newReceiver(clk)
	url := serve(t, "127.0.0.1:0", rc)
	g := startGateway(t, filepath.Join(t.TempDir(), "db"), url, clk, workorder.DeliveryConfig{})
	defer g.stop()
	g.wo.cfg.MaskDelivery = true
	g.submit(`{"caller_number":"13905801111","callback_number":"13812345678","department":"gas",` +
		`"summary":"市民来电反映：楼道有煤气味。回电13812345678。"}`)
	g.worker.Kick()
	got := <-rc.got
	<-g.done
	require.NotContains(t, string(got.body), "13812345678")
	require.NotContains(t, string(got.body), "13905801111")
	require.Contains(t, string(got.body), "楼道有煤气味")
	require.Contains(t, string(got.body), `"department":"gas"`)
}
