package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newOrder(call, digest string, at time.Time) NewOrder {
	return NewOrder{CallID: call, Seat: "seat-01", Digest: digest, At: at,
		Build: func(v int) (string, json.RawMessage, error) {
			k := call + ":v" + strconv.Itoa(v)
			return k, json.RawMessage(`{"key":"` + k + `"}`), nil
		}}
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t0 := time.UnixMilli(1_800_000_000_000).UTC()

	o, existed, err := s.EnqueueOrder(ctx, newOrder("c1", "d1", t0))
	require.NoError(t, err)
	require.False(t, existed)
	require.Equal(t, 1, o.Version)
	require.Equal(t, "c1:v1", o.Key)
	require.Equal(t, OrderPending, o.State)

	again, existed, err := s.EnqueueOrder(ctx, newOrder("c1", "d1", t0.Add(time.Second)))
	require.NoError(t, err)
	require.True(t, existed, "the same content twice is one version")
	require.Equal(t, o.ID, again.ID)

	v2, _, err := s.EnqueueOrder(ctx, newOrder("c1", "d2", t0.Add(time.Second)))
	require.NoError(t, err)
	require.Equal(t, "c1:v2", v2.Key)

	due, err := s.DueOrders(ctx, t0, 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "v2 is not due before its time")
	require.NoError(t, s.OrderRetry(ctx, o.ID, t0.Add(time.Minute), "HTTP 500"))
	due, err = s.DueOrders(ctx, t0.Add(2*time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []int64{v2.ID}, ids(due))

	// the outbox outlives the process
	require.NoError(t, s.Close())
	s, err = OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	due, err = s.DueOrders(ctx, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []int64{v2.ID, o.ID}, ids(due), "oldest due first")
	require.Equal(t, 1, due[1].Attempts)
	require.Equal(t, "HTTP 500", due[1].LastError)

	require.NoError(t, s.OrderDelivered(ctx, o.ID, "GD-1", t0.Add(time.Hour)))
	require.ErrorIs(t, s.OrderDelivered(ctx, o.ID, "GD-2", t0.Add(time.Hour)), ErrNotFound, "delivered once")
	require.NoError(t, s.OrderDead(ctx, v2.ID, "too old", t0.Add(time.Hour)))
	dead, err := s.Orders(ctx, WorkOrderFilter{State: OrderDead})
	require.NoError(t, err)
	require.Equal(t, []int64{v2.ID}, ids(dead))

	_, err = s.RequeueOrder(ctx, o.ID, t0)
	require.ErrorIs(t, err, ErrNotFound, "only a dead letter is requeued")
	re, err := s.RequeueOrder(ctx, v2.ID, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, OrderPending, re.State)
	require.Equal(t, t0.Add(2*time.Hour), re.Since)
	require.Equal(t, "c1:v2", re.Key, "the key survives a requeue")

	all, err := s.Orders(ctx, WorkOrderFilter{CallID: "c1"})
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "GD-1", all[1].OrderNo)
	require.NotNil(t, all[1].DeliveredAt)
}

func TestDraftRow(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "db"))
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Draft(ctx, "c1")
	require.ErrorIs(t, err, ErrNotFound)
	at := time.UnixMilli(1_800_000_000_000).UTC()
	require.NoError(t, s.Write(ctx, WorkOrderDraft{CallID: "c1", Seat: "seat-01", Data: json.RawMessage(`{"a":1}`), At: at}))
	require.NoError(t, s.Write(ctx, WorkOrderDraft{CallID: "c1", Seat: "seat-01", Data: json.RawMessage(`{"a":2}`), At: at}))
	d, err := s.Draft(ctx, "c1")
	require.NoError(t, err)
	require.JSONEq(t, `{"a":2}`, string(d.Data))
	require.Error(t, s.Write(ctx, WorkOrderDraft{CallID: "c1", Data: json.RawMessage(`{`)}))
}

func ids(os []OutboxOrder) []int64 {
	out := []int64{}
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}
