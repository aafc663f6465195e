package desk

import (
	"context"
	"encoding/json"
	"lianxin/store"
	"net/http"
	"strings"
)

// The browser phone. A seat's page that is its seat's phone, and a supervisor's wallboard
// that listens to a call, signal WebRTC over the socket they already have: messages whose
// type starts with "phone." or "monitor." go to Options.OpenPhone's link, and what the
// link sends comes back on the same socket in the usual envelope. The desk only carries
// them; it knows nothing of SDP.

// PhoneClient is who is on a socket that signals a phone.
type PhoneClient struct {
	User  string
	Seat  string // empty for admins
	Admin bool
}

// PhoneLink is one socket's phone signalling on the phone side.
type PhoneLink interface {
	// Message handles one client message; msg is the whole JSON message. An error goes
	// back to the screen as an error event.
	Message(ctx context.Context, typ string, msg json.RawMessage) error
	// Close is called once, when the socket ends.
	Close() error
}

// Audit event types: a supervisor started or stopped listening to or whispering on a
// call. They are stored like every event, without a seat, so only admins see them.
const (
	TypeMonitorStarted = "monitor.started"
	TypeMonitorStopped = "monitor.stopped"
)

// MonitorData is the payload of monitor.started and monitor.stopped: who, on which seat,
// how ("listen" or "whisper"); the call is the event's call_id.
type MonitorData struct {
	Supervisor string `json:"supervisor"`
	Seat       string `json:"seat"`
	Mode       string `json:"mode"`
}

func isPhoneMessage(typ string) bool {
	return strings.HasPrefix(typ, "phone.") || strings.HasPrefix(typ, "monitor.")
}

// phoneMessage hands a phone message to the socket's link, opening it on first use.
func (s *wsConn) phoneMessage(ctx context.Context, typ string, b []byte) error {
	if s.d.opts.OpenPhone == nil {
		return errNoPhones
	}
	if s.phone == nil {
		c := PhoneClient{User: s.sess.User, Seat: s.sess.Seat, Admin: s.sess.Admin()}
		s.phone = s.d.opts.OpenPhone(c, func(typ string, data any) bool { return s.sendPhone(ctx, typ, data) })
	}
	return s.phone.Message(ctx, typ, b)
}

// sendPhone queues one phone message for the socket's writer; false when the socket is
// gone or its phone queue is full.
func (s *wsConn) sendPhone(ctx context.Context, typ string, data any) bool {
	b, err := s.encode(typ, data)
	if err != nil {
		return false
	}
	select {
	case s.replies <- b:
		return true
	case <-ctx.Done():
		return false
	default:
		return false
	}
}

// seatInfo is GET /api/seats/{seat}: the seat's state and the phone that will ring.
type seatInfo struct {
	Seat  string `json:"seat"`
	State string `json:"state"`
	Phone string `json:"phone"`
	store.SeatSettings
}

func (d *Desk) seatInfo(w http.ResponseWriter, r *http.Request, s Session) {
	id := r.PathValue("seat")
	if !s.sees(id) {
		writeError(w, http.StatusForbidden, "another seat")
		return
	}
	states := map[string]string{}
	if d.opts.SeatStates != nil {
		states = d.opts.SeatStates()
	}
	st, ok := states[id]
	if !ok {
		writeError(w, http.StatusNotFound, "no such seat")
		return
	}
	set, err := d.st.SeatSettings(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "seat settings unavailable")
		return
	}
	writeJSON(w, http.StatusOK, seatInfo{Seat: id, State: st, Phone: d.phoneOf(id), SeatSettings: set})
}

// saveSeatSettings is PUT /api/seats/{seat}/settings: the seat's agent (or an admin) sets
// what the seat keeps for itself wherever it logs in, e.g. {"auto_answer": true}.
func (d *Desk) saveSeatSettings(w http.ResponseWriter, r *http.Request, s Session) {
	id := r.PathValue("seat")
	if !s.sees(id) {
		writeError(w, http.StatusForbidden, "another seat")
		return
	}
	if d.opts.SeatStates != nil {
		if _, ok := d.opts.SeatStates()[id]; !ok {
			writeError(w, http.StatusNotFound, "no such seat")
			return
		}
	}
	var body struct {
		AutoAnswer *bool `json:"auto_answer"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.AutoAnswer == nil {
		writeError(w, http.StatusBadRequest, `"auto_answer" (true or false) is required`)
		return
	}
	set := store.SeatSettings{AutoAnswer: *body.AutoAnswer}
	if err := d.st.SaveSeatSettings(r.Context(), id, set, d.opts.Now()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "seat settings not saved: the store refused them")
		return
	}
	writeJSON(w, http.StatusOK, set)
}

func (d *Desk) phoneOf(seat string) string {
	if d.opts.SeatPhone == nil || seat == "" {
		return ""
	}
	return d.opts.SeatPhone(seat)
}
