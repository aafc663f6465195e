package desk

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// failingStore refuses every write while broken is set, like a full disk or a locked
// database file.
type failingStore struct {
	store.Store
	broken atomic.Bool
}

func (f *failingStore) Append(ctx context.Context, ev store.Event, rows ...store.Row) (store.Event, error) {
	if f.broken.Load() {
		return ev, errors.New("disk I/O error: database or disk is full")
	}
	return f.Store.Append(ctx, ev, rows...)
}

// While the store fails, screens keep getting every event (marked unsaved), admins are
// told at once, and once the store recovers the events are written in the order they
// were pushed, each once.
func TestEventsSurviveAFailingStore(t *testing.T) {
	fs := &failingStore{}
	e := newEnvWith(t, Config{StoreRetry: 20 * time.Millisecond}, Options{},
		func(st store.Store) store.Store { fs.Store = st; return fs })
	seat := e.connect(e.login("seat-01", seatPass), -1)
	admin := e.connect(e.login("admin", "adminpw"), -1)

	e.offer("c1", "seat-01")
	require.Equal(t, TypeOffered, seat.next().Type)
	require.Equal(t, TypeOffered, admin.next().Type)

	fs.broken.Store(true)
	e.publish(Event{Type: TypeAnswered, CallID: "c1", Seat: "seat-01"})
	got := seat.next()
	require.Equal(t, TypeAnswered, got.Type)
	require.True(t, got.Unsaved, "pushed live, marked unsaved")
	require.Zero(t, got.Seq)
	health := admin.next()
	require.Equal(t, TypeHealth, health.Type, "admins hear of the failing store at once")
	require.JSONEq(t, `{"component":"store","ok":false,"detail":"writes failing: disk I/O error: database or disk is full"}`, string(health.Data))
	require.Equal(t, TypeAnswered, admin.next().Type)
	e.publish(Event{Type: TypeEnded, CallID: "c1", Seat: "seat-01", Data: CallEndedData{Reason: "completed"}})
	require.True(t, seat.next().Unsaved)
	require.Len(t, e.desk.Problems(), 1)

	fs.broken.Store(false)
	require.Eventually(t, func() bool { return len(e.desk.Problems()) == 0 }, 5*time.Second, 10*time.Millisecond)
	evs, err := e.st.Events(context.Background(), store.EventFilter{CallID: "c1"})
	require.NoError(t, err)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	require.Equal(t, []string{TypeOffered, TypeAnswered, TypeEnded}, types, "stored once each, in order")
	c, err := e.st.Call(context.Background(), "c1")
	require.NoError(t, err)
	require.NotNil(t, c.EndedAt, "the rows the events imply are written too")
	recovered := admin.next()
	require.Equal(t, TypeEnded, recovered.Type)
	recovered = admin.next()
	require.Equal(t, TypeHealth, recovered.Type)
	require.JSONEq(t, `{"component":"store","ok":true}`, string(recovered.Data))

	e.publish(Event{Type: TypeSeatState, Seat: "seat-01", Data: SeatStateData{State: "available"}})
	require.NotZero(t, seat.next().Seq, "stored again as usual")
}

// A wallboard opened while a part fails hears of it at once; a failing part whose detail
// changes (a trunk's next attempt) is told again, and its recovery once.
func TestHealthOnConnectAndWhileFailing(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	e.desk.ReportHealth("trunk telecom", errors.New("registration failing (1 in a row): REGISTER answered 503; next attempt 10:00:01"))
	admin := e.connect(e.login("admin", "adminpw"), -1)
	first := admin.next()
	require.Equal(t, TypeHealth, first.Type, "told right after hello")
	require.JSONEq(t, `{"component":"trunk telecom","ok":false,"detail":"registration failing (1 in a row): REGISTER answered 503; next attempt 10:00:01"}`,
		string(first.Data))

	e.desk.ReportHealth("trunk telecom", errors.New("registration failing (2 in a row): REGISTER answered 503; next attempt 10:00:03"))
	again := admin.next()
	require.Contains(t, string(again.Data), "next attempt 10:00:03")
	e.desk.ReportHealth("trunk telecom", errors.New("registration failing (2 in a row): REGISTER answered 503; next attempt 10:00:03"))
	e.desk.ReportHealth("trunk telecom", nil)
	require.JSONEq(t, `{"component":"trunk telecom","ok":true}`, string(admin.next().Data), "the same detail is not told twice")

	seat := e.connect(e.login("seat-01", seatPass), -1)
	e.desk.ReportHealth("store", errors.New("disk full"))
	require.Equal(t, TypeHealth, admin.next().Type)
	e.publish(Event{Type: TypeSeatState, Seat: "seat-01", Data: SeatStateData{State: "available"}})
	require.Equal(t, TypeSeatState, seat.next().Type, "agents' screens are not told of health")
}
