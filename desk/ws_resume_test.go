package desk

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// An after_seq beyond the last stored event (a screen that outlived a database restore)
// starts the stream at the end: the hello says so with reset and the real last_seq, nothing
// is replayed, and the events that follow arrive live instead of being held back until the
// sequence catches up with the screen's old position.
func TestWSAfterSeqBeyondLastStartsFromEnd(t *testing.T) {
	e := newEnv(t, Config{}, Options{})
	last := e.offer("c1", "seat-01")
	c, _, err := e.dial(e.login("seat-01", seatPass), last.Seq+100)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	w := &wsClient{t: t, c: c}
	hello := w.next()
	require.Equal(t, TypeHello, hello.Type)
	var h helloData
	require.NoError(t, json.Unmarshal(hello.Data, &h))
	require.Equal(t, helloData{Role: RoleSeat, Seat: "seat-01", LastSeq: last.Seq, Reset: true}, h)

	next := e.publish(Event{Type: TypeAnswered, CallID: "c1", Seat: "seat-01"})
	ev := w.next()
	require.Equal(t, TypeAnswered, ev.Type)
	require.Equal(t, next.Seq, ev.Seq)

	// an after_seq within the log is a plain resume, without reset
	c2 := e.connect(e.login("seat-01", seatPass), last.Seq)
	require.Equal(t, next.Seq, c2.next().Seq)
}
