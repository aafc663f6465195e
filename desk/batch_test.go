package desk

import (
	"bytes"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// recordConn stands in for a socket and records each Write call (each would be a syscall).
type recordConn struct {
	net.Conn
	writes []string
	closed bool
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}
func (r *recordConn) Close() error { r.closed = true; return nil }

func TestBatchConnHoldsInOrder(t *testing.T) {
	rc := &recordConn{}
	b := &batchConn{Conn: rc}
	w := func(s string) {
		n, err := b.Write([]byte(s))
		require.NoError(t, err)
		require.Equal(t, len(s), n)
	}
	w("handshake")
	b.hold()
	w("a")
	w("b")
	require.Equal(t, []string{"handshake"}, rc.writes, "held")
	require.NoError(t, b.release())
	w("c")
	require.Equal(t, []string{"handshake", "ab", "c"}, rc.writes, "one write for the backlog, then direct")

	big := string(bytes.Repeat([]byte("x"), maxBatch))
	b.hold()
	w("d")
	w(big) // does not fit: what is held goes first, then this
	require.Equal(t, []string{"d", big}, rc.writes[3:])
	w("e")
	require.NoError(t, b.Close())
	require.Equal(t, "e", rc.writes[len(rc.writes)-1], "Close sends what is held")
	require.True(t, rc.closed)
}
