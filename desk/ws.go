package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lianxin/store"
)

// clientMessage is what a screen may send: {"type":"dispatch.decide","call_id":…,
// "department":…,"accepted":true} or {"type":"seat.set_state","state":"away"}. Ref, when
// given, is echoed in the error that answers a failed message.
type clientMessage struct {
	Type       string `json:"type"`
	Ref        string `json:"ref,omitempty"`
	CallID     string `json:"call_id,omitempty"`
	Department string `json:"department,omitempty"`
	Accepted   bool   `json:"accepted,omitempty"`
	State      string `json:"state,omitempty"`
	Seat       string `json:"seat,omitempty"` // admins only: which seat to set
}

// errPhoneMessage says a message is for the phone link, not the desk.
var errPhoneMessage = errors.New("phone message")

// errNoPhones refuses phone messages when the gateway has no browser phones.
var errNoPhones = errors.New("browser phones are not enabled on this gateway")

// parseClientMessage decodes and validates one message from a screen.
func parseClientMessage(b []byte) (clientMessage, error) {
	var m clientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("malformed message: %w", err)
	}
	switch m.Type {
	case typeDecide:
		if m.CallID == "" || m.Department == "" {
			return m, errors.New("dispatch.decide needs call_id and department")
		}
	case typeSetState:
		if m.State != seatStateAvail && m.State != seatStateAway {
			return m, fmt.Errorf("seat.set_state: state must be %q or %q", seatStateAvail, seatStateAway)
		}
	case "":
		return m, errors.New("message without type")
	default:
		if isPhoneMessage(m.Type) {
			return m, errPhoneMessage
		}
		return m, fmt.Errorf("unknown message type %q", m.Type)
	}
	return m, nil
}

// helloData opens every stream: who the token is, and the last seq before this connection
// joined, from which a screen that connected live-only resumes. Reset says that the
// after_seq asked for was beyond the last stored event (a database replaced or restored
// from backup): nothing was replayed, the stream goes on live from LastSeq, and the screen
// takes LastSeq as its position. A 400 would have been as honest, but a browser cannot read
// the status of a refused WebSocket and would retry the same after_seq for ever.
type helloData struct {
	Role    string `json:"role"`
	Seat    string `json:"seat,omitempty"`
	LastSeq int64  `json:"last_seq"`
	Reset   bool   `json:"reset,omitempty"`
}

type errorData struct {
	Error string `json:"error"`
	Ref   string `json:"ref,omitempty"`
}

// serveWS authenticates before upgrading (a bad token gets a 401, not a socket), subscribes,
// upgrades, replays what the screen missed and then streams live events.
func (d *Desk) serveWS(w http.ResponseWriter, r *http.Request) {
	sess, ok := d.authenticate(w, r)
	if !ok {
		return
	}
	after := int64(-1)
	if v := r.URL.Query().Get("after_seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "after_seq must be a non-negative integer")
			return
		}
		after = n
	}
	types, err := parseTypes(r.URL.Query().Get("types"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// subscribe before the upgrade completes, so that once the screen sees the socket open
	// nothing published afterwards can be missed; an admin's wallboard state is read at the
	// same cut
	var snap []wireEvent
	sub, cut, ok := d.hub.subscribe(sess, types, d.cfg.BufferSize, func() { snap = d.snapshotLocked(sess, types) })
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer d.hub.conns.Done()
	defer d.hub.unsubscribe(sub)
	// a logout between authenticate and subscribe found no socket to close: check again
	if _, err := d.auth.check(tokenOf(r)); err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	// an after_seq past the cut would make the writer skip live events up to it
	reset := after > cut
	if reset {
		after = cut
	}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &d.writeBuffers}
	hj := &hijacker{ResponseWriter: w}
	c, err := up.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	d.m.subscribers.Inc()
	defer d.m.subscribers.Dec()
	s := &wsConn{d: d, c: c, bc: hj.conn, sess: sess, sub: sub, sent: after, reset: reset, snap: snap, replies: make(chan []byte, 64)}
	s.run(cut)
}

// wsConn is one screen's socket. Its writer runs on the HTTP handler's goroutine and owns a
// reader goroutine that it waits for.
type wsConn struct {
	d     *Desk
	c     *websocket.Conn
	bc    *batchConn // under c: holds a backlog of frames for one write
	sess  Session
	sub   *subscriber
	sent  int64 // highest seq written
	reset bool  // after_seq was beyond the cut (see helloData)
	// snap is the wallboard's state at the cut, for an admin (board.go)
	snap []wireEvent
	// replies carries what is written to this socket alone: error replies and what the
	// phone side sends
	replies chan []byte
	// phone is the socket's phone signalling, opened by its first phone message and
	// owned by the reader
	phone PhoneLink
}

func (s *wsConn) run(cut int64) {
	ctx, cancel := context.WithCancelCause(s.d.ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	readerDone := make(chan struct{})
	wg.Go(func() {
		defer close(readerDone)
		s.read(ctx)
	})
	code, reason := s.write(ctx, cut, readerDone)
	if code != 0 {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(s.d.cfg.WriteTimeout))
	}
	s.c.Close()
	cancel(errors.New("connection closed"))
	wg.Wait()
}

// write sends hello, the replay and then live frames until something ends the connection; it
// returns the close code to send (0: none, the peer or the reader already closed).
func (s *wsConn) write(ctx context.Context, cut int64, readerDone <-chan struct{}) (int, string) {
	if err := s.send(TypeHello, helloData{Role: s.sess.Role, Seat: s.sess.Seat, LastSeq: cut, Reset: s.reset}); err != nil {
		return 0, ""
	}
	if err := s.sendSnapshot(); err != nil {
		return 0, ""
	}
	if s.sent >= 0 {
		s.bc.hold()
		err := s.replay(ctx, cut)
		if rerr := s.bc.release(); err == nil && rerr != nil {
			return 0, ""
		}
		if err != nil {
			s.d.log.Warn("desk: replay failed", "seat", s.sess.Seat, "err", err)
			return websocket.CloseInternalServerErr, "replay failed"
		}
	}
	ping := time.NewTicker(s.d.cfg.PingInterval)
	defer ping.Stop()
	// the socket ends with its token: a timer for the expiry as the clock stood at connect,
	// and a check of the (injected) clock at each ping in case it moved otherwise
	expiry := time.NewTimer(s.sess.Expires.Sub(s.d.opts.Now()))
	defer expiry.Stop()
	for {
		select {
		case f := <-s.sub.ch:
			if f.seq != 0 && f.seq <= s.sent {
				continue // already replayed
			}
			// frames queued behind this one go out in the same write
			s.bc.hold()
			if err := s.writeFrame(f.data); err != nil {
				return 0, ""
			}
			if f.seq > s.sent {
				s.sent = f.seq
			}
			if len(s.sub.ch) == 0 {
				if err := s.bc.release(); err != nil {
					return 0, ""
				}
			}
		case b := <-s.replies:
			if err := s.writeFrame(b); err != nil {
				return 0, ""
			}

		case <-expiry.C:
			return websocket.ClosePolicyViolation, errExpiredToken.Error()
		case <-ping.C:
			if !s.d.opts.Now().Before(s.sess.Expires) {
				return websocket.ClosePolicyViolation, errExpiredToken.Error()
			}
			if err := s.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.d.cfg.WriteTimeout)); err != nil {
				return 0, ""
			}
		case <-s.sub.gone:
			switch s.sub.why {
			case dropSlow:
				return websocket.CloseTryAgainLater, "too slow: reconnect with after_seq"
			case dropLoggedOut:
				return websocket.ClosePolicyViolation, "logged out"
			}
			return websocket.CloseGoingAway, "server shutting down"
		case <-ctx.Done():
			return websocket.CloseGoingAway, "server shutting down"
		case <-readerDone:
			return 0, ""
		}
	}
}

// replay writes the stored events in (sent, cut] that this session may see.
func (s *wsConn) replay(ctx context.Context, cut int64) error {
	f := store.EventFilter{AfterSeq: s.sent, UpToSeq: cut, Limit: s.d.cfg.ReplayPage}
	if !s.sess.Admin() {
		f.Seat = s.sess.Seat
	}
	view, err := s.d.piiViewFor(ctx, s.sess)
	if err != nil {
		return err
	}
	for f.AfterSeq < cut {
		evs, err := s.d.st.Events(ctx, f)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			s.sent, f.AfterSeq = ev.Seq, ev.Seq
			if !s.sub.types.match(ev.Type) {
				continue
			}
			data, err := view.replayData(ev)
			if err != nil {
				return err
			}
			b, err := json.Marshal(wireEvent{Seq: ev.Seq, Type: ev.Type, Time: ev.Time, CallID: ev.CallID,
				Seat: ev.Seat, Data: data})
			if err != nil {
				return err
			}
			if err := s.writeFrame(b); err != nil {
				return nil // the peer went away; nothing to report
			}
			s.d.m.replayed.Inc()
		}
	}
	if s.sent < cut {
		s.sent = cut
	}
	return nil
}

func (s *wsConn) writeFrame(b []byte) error {
	if err := s.c.SetWriteDeadline(time.Now().Add(s.d.cfg.WriteTimeout)); err != nil {
		return err
	}
	return s.c.WriteMessage(websocket.TextMessage, b)
}

// sendSnapshot tells an admin who connects what was true at the cut, not only of later
// changes (snapshotLocked).
func (s *wsConn) sendSnapshot() error {
	for _, ev := range s.snap {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := s.writeFrame(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *wsConn) send(typ string, data any) error {
	b, err := s.encode(typ, data)
	if err != nil {
		return err
	}
	return s.writeFrame(b)
}

func (s *wsConn) encode(typ string, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireEvent{Type: typ, Time: s.d.opts.Now().UTC(), Seat: s.sess.Seat, Data: raw})
}

// read handles client messages until the socket fails. An oversize message makes gorilla
// answer with close 1009 and fail the read; a malformed one gets an error event and the
// connection stays.
func (s *wsConn) read(ctx context.Context) {
	wait := s.d.cfg.PingInterval * 5 / 2
	s.c.SetReadLimit(s.d.cfg.MaxMessageBytes)
	_ = s.c.SetReadDeadline(time.Now().Add(wait))
	s.c.SetPongHandler(func(string) error { return s.c.SetReadDeadline(time.Now().Add(wait)) })
	defer func() {
		if s.phone != nil {
			_ = s.phone.Close()
		}
	}()
	for {
		typ, b, err := s.c.ReadMessage()
		if err != nil {
			return
		}
		_ = s.c.SetReadDeadline(time.Now().Add(wait))
		var m clientMessage
		if typ != websocket.TextMessage {
			err = errors.New("binary messages are not accepted")
		} else if m, err = parseClientMessage(b); err == nil {
			err = s.d.handle(ctx, s.sess, m)
		} else if isPhoneMessage(m.Type) {
			err = s.phoneMessage(ctx, m.Type, b)
		}
		if err == nil {
			continue
		}
		reply, encErr := s.encode(TypeError, errorData{Error: err.Error(), Ref: m.Ref})
		if encErr != nil {
			continue
		}
		select {
		case s.replies <- reply:
		default: // a client flooding bad messages loses error replies, not the connection
		}
	}
}

// handle executes a client message for sess (from the socket or the API).
func (d *Desk) handle(ctx context.Context, sess Session, m clientMessage) error {
	switch m.Type {
	case typeDecide:
		return d.decide(ctx, sess, m.CallID, m.Department, m.Accepted)
	case typeSetState:
		seat := sess.Seat
		if sess.Admin() && m.Seat != "" {
			seat = m.Seat
		}
		return d.setState(ctx, sess, seat, m.State)
	}
	return fmt.Errorf("unknown message type %q", m.Type)
}
