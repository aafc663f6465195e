package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The urgent calls still to be seen are those of the day whose latest draft is urgent, and
// that are in progress or whose latest order is neither queued nor delivered; newest first,
// at most the limit.
func TestUrgentCalls(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	urgent := func(id string, at time.Time, isUrgent bool) {
		t.Helper()
		data, err := json.Marshal(map[string]any{"call_id": id, "urgent": isUrgent, "urgent_reasons": []string{"燃气泄漏"}})
		require.NoError(t, err)
		require.NoError(t, s.Write(ctx, Call{ID: id, Seat: "seat-01", OfferedAt: at},
			WorkOrderDraft{CallID: id, Seat: "seat-01", Data: data, At: at.Add(time.Minute)}))
	}
	end := func(id string, at time.Time) {
		t.Helper()
		require.NoError(t, s.Write(ctx, CallEnded{CallID: id, At: at.Add(2 * time.Minute), Reason: "completed"}))
	}
	order := func(id string, at time.Time) OutboxOrder {
		t.Helper()
		o, _, err := s.EnqueueOrder(ctx, newOrder(id, id+at.String(), at))
		require.NoError(t, err)
		return o
	}
	day := t0.Truncate(24 * time.Hour)
	urgent("yesterday", day.Add(-time.Hour), true)
	urgent("tomorrow", day.Add(24*time.Hour), true)
	urgent("calm", day.Add(time.Hour), false)
	urgent("live", day.Add(2*time.Hour), true)
	order("live", day.Add(2*time.Hour)) // in progress: shown though queued
	urgent("queued", day.Add(3*time.Hour), true)
	end("queued", day.Add(3*time.Hour))
	order("queued", day.Add(3*time.Hour))
	urgent("dead", day.Add(4*time.Hour), true)
	end("dead", day.Add(4*time.Hour))
	require.NoError(t, s.OrderDead(ctx, order("dead", day.Add(4*time.Hour)).ID, "HTTP 503", day.Add(5*time.Hour)))
	urgent("redone", day.Add(5*time.Hour), true) // delivered, then a new version failed
	end("redone", day.Add(5*time.Hour))
	require.NoError(t, s.OrderDelivered(ctx, order("redone", day.Add(5*time.Hour)).ID, "GD-1", day.Add(6*time.Hour)))
	require.NoError(t, s.OrderDead(ctx, order("redone", day.Add(6*time.Hour)).ID, "HTTP 503", day.Add(6*time.Hour)))
	urgent("unsubmitted", day.Add(6*time.Hour), true)
	end("unsubmitted", day.Add(6*time.Hour))

	calls, err := s.UrgentCalls(ctx, day, day.Add(24*time.Hour), 10)
	require.NoError(t, err)
	var got []string
	for _, c := range calls {
		got = append(got, c.CallID)
	}
	require.Equal(t, []string{"unsubmitted", "redone", "dead", "live"}, got)
	require.Equal(t, "seat-01", calls[0].Seat)
	require.Equal(t, day.Add(6*time.Hour), calls[0].At, "when the call was offered")
	require.JSONEq(t, `{"call_id":"unsubmitted","urgent":true,"urgent_reasons":["燃气泄漏"]}`, string(calls[0].Draft))

	calls, err = s.UrgentCalls(ctx, day, day.Add(24*time.Hour), 2)
	require.NoError(t, err)
	require.Len(t, calls, 2)
	require.Equal(t, "unsubmitted", calls[0].CallID, "the newest within the limit")
}

// BenchmarkUrgentCalls reads a busy day's urgent calls still to be followed: 10,000 calls
// a day over the day before and this one, one in a hundred urgent, drafts of a real size.
// The desk reads this under its publishing lock when a wallboard connects.
func BenchmarkUrgentCalls(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	day := t0.Truncate(24 * time.Hour)
	summary := "市民来电反映：" + strings.Repeat("小区楼道灯不亮，晚上出行不便，", 12) + "诉求：尽快维修。"
	for d := -1; d <= 0; d++ {
		var rows []Row
		for i := range 10000 {
			id := fmt.Sprintf("c%d-%d", d+1, i)
			at := day.AddDate(0, 0, d).Add(time.Duration(i) * 8 * time.Second)
			data, err := json.Marshal(map[string]any{"call_id": id, "place": "幸福小区", "summary": summary,
				"urgent": i%100 == 0, "urgent_reasons": []string{"燃气泄漏"}, "complete": true})
			require.NoError(b, err)
			rows = append(rows, Call{ID: id, Seat: "seat-01", OfferedAt: at}, CallEnded{CallID: id, At: at.Add(time.Minute)},
				WorkOrderDraft{CallID: id, Seat: "seat-01", Data: data, At: at.Add(2 * time.Minute)})
		}
		require.NoError(b, s.Write(ctx, rows...))
	}
	b.ResetTimer()
	for b.Loop() {
		calls, err := s.UrgentCalls(ctx, day, day.AddDate(0, 0, 1), 50)
		require.NoError(b, err)
		require.Len(b, calls, 50)
	}
}
