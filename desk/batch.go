package desk

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// maxBatch bounds how many bytes of frames wait for one write.
const maxBatch = 64 << 10

// batchConn lets a screen's writer put a backlog of frames into one write syscall. gorilla
// writes every frame straight to its net.Conn; when a thousand screens each take one syscall
// per event, the syscalls are the fan-out's cost. While batching is on, writes are held; they
// go out when the writer's queue is empty (release), when the batch is full, or on Close.
// Writes from other goroutines (gorilla's control frames) take the same lock, so frames keep
// their order.
type batchConn struct {
	net.Conn
	mu      sync.Mutex
	batch   bool
	pending []byte
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batch && len(b.pending)+len(p) <= maxBatch {
		b.pending = append(b.pending, p...)
		return len(p), nil
	}
	if err := b.flushLocked(); err != nil {
		return 0, err
	}
	return b.Conn.Write(p)
}

func (b *batchConn) flushLocked() error {
	if len(b.pending) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.pending)
	b.pending = b.pending[:0]
	if cap(b.pending) > maxBatch {
		b.pending = nil
	}
	return err
}

// hold starts holding writes.
func (b *batchConn) hold() {
	b.mu.Lock()
	b.batch = true
	b.mu.Unlock()
}

// release writes what is held and stops holding.
func (b *batchConn) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batch = false
	return b.flushLocked()
}

// Close sends what is held (a close frame, typically) before closing.
func (b *batchConn) Close() error {
	b.mu.Lock()
	err := b.flushLocked()
	b.mu.Unlock()
	return errors.Join(err, b.Conn.Close())
}

// hijacker hands gorilla's Upgrader a batchConn in place of the raw connection.
type hijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("desk: response writer cannot hijack")
	}
	c, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, rw, nil
}
