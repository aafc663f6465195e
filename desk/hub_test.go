package desk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHubDropsSlowSubscriberWithoutBlocking(t *testing.T) {
	drops := 0
	h := newHub(0, func() { drops++ })
	slow, _, ok := h.subscribe(Session{Role: RoleAdmin}, nil, 2, nil)
	require.True(t, ok)
	fast, _, ok := h.subscribe(Session{Role: RoleAdmin}, nil, 100, nil)
	require.True(t, ok)
	h.mu.Lock()
	for i := 1; i <= 10; i++ {
		h.deliverLocked("seat-01", &frame{seq: int64(i)}) // would block forever if delivery waited
	}
	h.mu.Unlock()
	<-slow.gone
	require.Equal(t, 1, drops)
	require.Len(t, slow.ch, 2, "the slow subscriber kept what fitted")
	require.Len(t, fast.ch, 10)
	require.Equal(t, 1, h.count())
	h.unsubscribe(slow) // after a drop: no double close
	h.unsubscribe(fast)
	h.conns.Done()
	h.conns.Done()
	h.close()
	h.close()
	_, _, ok = h.subscribe(Session{Role: RoleAdmin}, nil, 1, nil)
	require.False(t, ok, "a closed hub takes no subscribers")
}

func TestTypeFilter(t *testing.T) {
	f, err := parseTypes("seat.state,call.")
	require.NoError(t, err)
	for typ, want := range map[string]bool{TypeSeatState: true, TypeOffered: true, TypeEnded: true,
		TypePartial: false, "seat.stateX": false, "call": false} {
		require.Equal(t, want, f.match(typ), typ)
	}
	none, err := parseTypes("")
	require.NoError(t, err)
	require.True(t, none.match(TypePartial))
	for _, bad := range []string{",", "a,,b", strings.Repeat("x,", 40) + "x", strings.Repeat("y", 65)} {
		_, err := parseTypes(bad)
		require.Error(t, err, bad)
	}
}

func TestHubSeatIsolation(t *testing.T) {
	h := newHub(0, nil)
	s1, _, _ := h.subscribe(Session{Role: RoleSeat, Seat: "seat-01"}, nil, 10, nil)
	s2, _, _ := h.subscribe(Session{Role: RoleSeat, Seat: "seat-02"}, nil, 10, nil)
	adm, _, _ := h.subscribe(Session{Role: RoleAdmin}, nil, 10, nil)
	h.mu.Lock()
	h.deliverLocked("seat-01", &frame{seq: 1})
	h.deliverLocked("", &frame{seq: 2}) // hotspot alerts and ASR health: admins only
	h.deliverLocked("seat-02", &frame{seq: 3})
	h.mu.Unlock()
	seqs := func(s *subscriber) (out []int64) {
		for len(s.ch) > 0 {
			out = append(out, (<-s.ch).seq)
		}
		return out
	}
	require.Equal(t, []int64{1}, seqs(s1))
	require.Equal(t, []int64{3}, seqs(s2))
	require.Equal(t, []int64{1, 2, 3}, seqs(adm))
	h.close()
}

// Concurrent publishers: every subscriber still sees stored events in strictly increasing seq.
func TestPublishOrderUnderConcurrency(t *testing.T) {
	e := newEnv(t, Config{BufferSize: 1000}, Options{})
	sub, cut, ok := e.desk.hub.subscribe(Session{Role: RoleAdmin}, nil, 1000, nil)
	require.True(t, ok)
	defer e.desk.hub.conns.Done()
	require.Zero(t, cut)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				seat := fmt.Sprintf("seat-%02d", w+1)
				typ := TypeDTMF
				if i%5 == 0 {
					typ = TypePartial
				}
				_, err := e.desk.Publish(context.Background(), Event{Type: typ, Seat: seat, CallID: "c",
					Data: TranscriptData{Channel: "caller", UtteranceID: "u", Text: "x"}})
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	var last int64
	stored, partials := 0, 0
	for len(sub.ch) > 0 {
		f := <-sub.ch
		if f.seq == 0 {
			partials++
			continue
		}
		require.Greater(t, f.seq, last)
		last = f.seq
		stored++
	}
	require.Equal(t, 160, stored)
	require.Equal(t, 40, partials)
	evs, err := e.st.Events(context.Background(), storeFilterAll())
	require.NoError(t, err)
	require.Len(t, evs, 160, "partials are not stored")
	require.Equal(t, last, evs[len(evs)-1].Seq)
}

func TestPublishRejectsBadData(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	ctx := context.Background()
	_, err := e.desk.Publish(ctx, Event{})
	require.Error(t, err)
	_, err = e.desk.Publish(ctx, Event{Type: TypeFinal, Seat: "seat-01", Data: TranscriptData{Text: "x"}})
	require.ErrorContains(t, err, "without call_id")
	_, err = e.desk.Publish(ctx, Event{Type: TypeSuggested, CallID: "c", Data: "not an object"})
	require.ErrorContains(t, err, "dispatch.suggested data")
	_, err = e.desk.Publish(ctx, Event{Type: TypeOffered, CallID: "c9", Seat: "seat-01", Data: "x"})
	require.ErrorContains(t, err, "call.offered data")
	_, err = e.desk.Publish(ctx, Event{Type: TypeDTMF, Data: func() {}})
	require.Error(t, err)
	last, err := e.st.LastSeq(ctx)
	require.NoError(t, err)
	require.Zero(t, last, "nothing was stored")

	require.NoError(t, e.desk.Close())
	_, err = e.desk.Publish(ctx, Event{Type: TypeDTMF})
	require.ErrorIs(t, err, ErrClosed)
}
