package webrtcseat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Message types. The page sends phone.* (a seat's page) and monitor.* (a supervisor's);
// the engine answers with the same prefixes.
const (
	msgRegister  = "phone.register"  // {on}: this page is (or stops being) the seat's phone
	msgOffer     = "phone.offer"     // {call, pc, sdp}: answer the call (or reconnect it)
	msgCandidate = "phone.candidate" // {call, pc, candidate}: trickle ICE, both ways
	msgReject    = "phone.reject"    // {call}: decline a ringing call
	msgHangup    = "phone.hangup"    // {call}
	msgDTMF      = "phone.dtmf"      // {call, digits}: RFC 4733 to the caller
	msgMute      = "phone.mute"      // {call, on}: the caller hears silence from the agent
	msgHold      = "phone.hold"      // {call, on}: neither side hears the other

	msgRing   = "phone.ring"   // {call, from}: ring
	msgCancel = "phone.cancel" // {call, reason}: stop ringing
	msgAnswer = "phone.answer" // {call, pc, sdp}
	msgResume = "phone.resume" // {call, from, muted, held}: a call is up: offer again
	msgEnded  = "phone.ended"  // {call, reason}
	msgStatus = "phone.status" // {phone, reason}: whether this page is the seat's phone

	msgMonStart     = "monitor.start"     // {seat, mode, pc, sdp}: listen, whisper or barge
	msgMonCandidate = "monitor.candidate" // {id|pc, candidate}
	msgMonStop      = "monitor.stop"      // {id}
	msgMonAnswer    = "monitor.answer"    // {id, pc, sdp}
	msgMonEnded     = "monitor.ended"     // {id, reason}
)

// message is every field a page's phone or monitor message may carry.
type message struct {
	Type      string                   `json:"type"`
	Call      string                   `json:"call,omitempty"`
	PC        string                   `json:"pc,omitempty"`
	SDP       string                   `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	On        bool                     `json:"on,omitempty"`
	Digits    string                   `json:"digits,omitempty"`
	Seat      string                   `json:"seat,omitempty"`
	Mode      string                   `json:"mode,omitempty"`
	ID        string                   `json:"id,omitempty"`
}

type ringData struct {
	Call   string `json:"call"`
	From   string `json:"from,omitempty"`
	Muted  bool   `json:"muted,omitempty"`
	Held   bool   `json:"held,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type sdpData struct {
	Call string `json:"call,omitempty"`
	ID   string `json:"id,omitempty"`
	PC   string `json:"pc"`
	SDP  string `json:"sdp,omitempty"`
	// Candidate is a trickled candidate (with SDP empty).
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
}

type statusData struct {
	Phone  bool   `json:"phone"`
	Reason string `json:"reason,omitempty"`
}

// Client is who is on a socket: a seat's agent or a supervisor.
type Client struct {
	User  string
	Seat  string // empty for supervisors
	Admin bool
}

// Session is one screen's signalling: the socket it came on sends with send. Open one per
// socket with Open and Close it when the socket ends.
type Session struct {
	e      *Engine
	user   string
	seat   string
	admin  bool
	sendFn func(typ string, data any) bool
}

// Open starts the signalling of one socket; send writes a message to it and reports
// false when the socket is gone or full.
func (e *Engine) Open(c Client, send func(typ string, data any) bool) *Session {
	return &Session{e: e, user: c.User, seat: c.Seat, admin: c.Admin, sendFn: send}
}

func (s *Session) send(typ string, data any) {
	if !s.sendFn(typ, data) {
		s.e.log.Debug("webrtcseat: a signalling message was not delivered", "type", typ, "seat", s.seat)
	}
}

// Close ends the socket's part: it stops being a phone (an answered call waits Grace for
// a page to take it up again) and its monitors stop.
func (s *Session) Close() error {
	s.e.sessionGone(s)
	return nil
}

// Message handles one message from the page; msg is the whole JSON message. An error is
// the page's to show.
func (s *Session) Message(_ context.Context, typ string, msg json.RawMessage) error {
	var m message
	if err := json.Unmarshal(msg, &m); err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	if strings.HasPrefix(typ, "monitor.") {
		return s.monitorMessage(typ, m)
	}
	if s.seat == "" {
		return errors.New("phone messages need a seat's login")
	}
	if typ == msgRegister {
		s.e.register(s, m.On)
		return nil
	}
	c, err := s.e.call(s.seat, m.Call)
	if err != nil {
		return err
	}
	switch typ {
	case msgOffer:
		return c.offer(s, m.PC, m.SDP)
	case msgCandidate:
		return c.candidate(m.PC, m.Candidate)
	case msgReject:
		c.cancel(ErrRejected)
	case msgHangup:
		c.cancel(ErrHangup)
	case msgDTMF:
		return c.dtmf(m.Digits)
	case msgMute:
		c.setFlags(&m.On, nil)
	case msgHold:
		c.setFlags(nil, &m.On)
	default:
		return fmt.Errorf("unknown phone message %q", typ)
	}
	return nil
}

func (s *Session) monitorMessage(typ string, m message) error {
	if !s.admin {
		return errors.New("listen and whisper are for supervisors")
	}
	switch typ {
	case msgMonStart:
		return s.e.startMonitor(s, m)
	case msgMonCandidate:
		mon := s.e.monitorByPC(s, m.PC)
		if mon == nil {
			return fmt.Errorf("no monitor %q", m.PC)
		}
		if m.Candidate == nil {
			return nil
		}
		return mon.p.pc.AddICECandidate(*m.Candidate)
	case msgMonStop:
		if mon := s.e.monitorByPC(s, m.PC); mon != nil {
			mon.close()
		}
		return nil
	}
	return fmt.Errorf("unknown monitor message %q", typ)
}
