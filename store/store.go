// Package store persists what the gateway must not lose: calls and their legs, seat state
// changes, final utterances, department suggestions, agent decisions, hotspot alerts and the
// event log that agent screens replay from. SQLite (modernc.org/sqlite, no cgo) is the default
// implementation; the Store interface is what a Postgres implementation would satisfy.
//
// The package imports no other project package: callers convert their own types into the rows
// defined here.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrBadQuery marks a search refused before it runs: empty, too long or too many terms. The
// error's text says which, for the user.
var ErrBadQuery = errors.New("bad search")

// Search limits: a query's cost grows with its length and, for terms too short for the
// trigram index, with the rows scanned per term, so both are bounded before it runs.
const (
	MaxSearchChars = 200 // characters (code points) in SearchQuery.Text
	MaxSearchTerms = 8   // whitespace-separated terms
)

// Store is the persistence contract. Implementations are safe for concurrent use.
type Store interface {
	// Append stores ev in the event log together with rows, in one transaction, and returns
	// ev with its Seq assigned. Seqs are strictly increasing in commit order.
	Append(ctx context.Context, ev Event, rows ...Row) (Event, error)
	// Write stores rows in one transaction without an event.
	Write(ctx context.Context, rows ...Row) error
	// Events returns stored events matching f, in seq order.
	Events(ctx context.Context, f EventFilter) ([]Event, error)
	// LastSeq is the highest seq stored so far (0 when empty).
	LastSeq(ctx context.Context) (int64, error)
	// Call returns one call with its legs, transcript, suggestions and decisions.
	Call(ctx context.Context, id string) (CallDetail, error)
	// Calls lists calls matching f, newest first.
	Calls(ctx context.Context, f CallFilter) ([]Call, error)
	// SearchUtterances finds final utterances containing every whitespace-separated term of q
	// in their redacted text: personal numbers are not searchable (see package redact).
	// A query over MaxSearchChars or MaxSearchTerms is an ErrBadQuery; the search stops
	// when ctx ends.
	SearchUtterances(ctx context.Context, q SearchQuery) ([]Utterance, error)
	// OpenCalls are the calls that never ended (the process stopped under them), each with
	// the time of the last thing stored about it.
	OpenCalls(ctx context.Context) ([]OpenCall, error)
	// OpenAlerts returns the latest change of each hotspot alert still open at now: not
	// closed or expired, and its Until after now. Alerts without an ID or an Until are
	// never open here.
	OpenAlerts(ctx context.Context, now time.Time) ([]Alert, error)
	// UrgentCalls are the urgent calls offered in [from, to) that still need a supervisor
	// (see UrgentCall), newest first, at most limit.
	UrgentCalls(ctx context.Context, from, to time.Time, limit int) ([]UrgentCall, error)
	// SaveSession keeps a login session so that it outlives a restart.
	SaveSession(ctx context.Context, s SessionRecord) error
	// DeleteSession forgets a session (a logout).
	DeleteSession(ctx context.Context, id string) error
	// Sessions returns the sessions still live at now and forgets the expired ones.
	Sessions(ctx context.Context, now time.Time) ([]SessionRecord, error)
	// DayStats summarises calls offered in [from, to).
	DayStats(ctx context.Context, from, to time.Time) (DayStats, error)
	// SeatSettings returns a seat's own settings (the zero value when it saved none).
	SeatSettings(ctx context.Context, seat string) (SeatSettings, error)
	// SaveSeatSettings replaces a seat's settings.
	SaveSeatSettings(ctx context.Context, seat string, v SeatSettings, at time.Time) error
	// Close releases the database.
	Close() error
}

// SessionRecord is a screen's login session. ID is a hash of its bearer token, never the
// token: a copy of the database gives no one a live session.
type SessionRecord struct {
	ID      string
	User    string
	Role    string
	Seat    string
	Expires time.Time
}

// OpenCall is a call with no end, found at start-up.
type OpenCall struct {
	Call
	// LastSeen is the time of the call's last stored event (its offer when it has none).
	LastSeen time.Time
}

// Event is one entry of the event log. Data is the event's JSON payload.
type Event struct {
	Seq    int64
	Type   string
	Time   time.Time
	CallID string
	Seat   string
	Data   json.RawMessage
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	AfterSeq int64  // only seq > AfterSeq
	UpToSeq  int64  // only seq <= UpToSeq when > 0
	Seat     string // only this seat's events
	CallID   string // only this call's events
	Limit    int    // at most this many (0: 1000)
}

// Row is a domain record written by Append or Write. The set of rows is closed: Call,
// CallAnswered, CallEnded, Leg, SeatState, Utterance, Suggestion, Decision, Alert and
// WorkOrderDraft.
type Row interface{ row() }

// Call is a caller's call as the gateway sees it. Writing a Call for an existing ID updates its
// seat, numbers and queue (a re-offer to another seat) and keeps its offer time.
type Call struct {
	ID         string     `json:"id"`
	From       string     `json:"from,omitempty"`
	To         string     `json:"to,omitempty"`
	Queue      string     `json:"queue,omitempty"`
	Seat       string     `json:"seat,omitempty"`
	OfferedAt  time.Time  `json:"offered_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndReason  string     `json:"end_reason,omitempty"`
	// Outcome is "", "answered", "abandoned" (ended unanswered) or "failed".
	Outcome string `json:"outcome,omitempty"`
	// Survey is the caller's satisfaction answer, when one was asked for.
	Survey string `json:"survey,omitempty"`
}

// CallAnswered marks a call answered by Seat at At (once). An unknown call is created, offered
// at At.
type CallAnswered struct {
	CallID string
	Seat   string
	At     time.Time
}

// CallEnded marks a call ended at At (once). Failed says the gateway, not a party, ended it (an
// error, no seat reachable); an unanswered call that did not fail counts as abandoned. An
// unknown call (a caller who left the queue before any seat rang) is created, offered at At.
type CallEnded struct {
	CallID string
	At     time.Time
	Reason string
	Failed bool
	// Survey is the caller's satisfaction answer ("satisfied", "basic", "dissatisfied",
	// "no_answer"), empty when none was asked for.
	Survey string
}

// Leg is one dialog of a B2BUA call: "caller" or "agent".
type Leg struct {
	CallID    string     `json:"call_id"`
	Leg       string     `json:"leg"`
	Peer      string     `json:"peer,omitempty"`
	Codec     string     `json:"codec,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// Quality is the leg's audio quality; nil when it carried nothing to rate.
	Quality *LegQuality `json:"quality,omitempty"`
}

// SeatState records a seat entering State at At.
type SeatState struct {
	Seat  string    `json:"seat"`
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Utterance is a final transcript segment of one channel ("caller" or "agent").
type Utterance struct {
	CallID      string    `json:"call_id"`
	Seat        string    `json:"seat,omitempty"`
	Channel     string    `json:"channel"`
	UtteranceID string    `json:"utterance_id"`
	Text        string    `json:"text"`
	StartMS     int64     `json:"start_ms"`
	EndMS       int64     `json:"end_ms"`
	Confidence  float64   `json:"confidence"`
	At          time.Time `json:"at"`
}

// Department is one scored department of a suggestion.
type Department struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Score    float64  `json:"score"`
	Evidence []string `json:"evidence,omitempty"`
}

// Suggestion is a ranked list of departments offered to the agent for a call.
type Suggestion struct {
	CallID      string       `json:"call_id"`
	Seat        string       `json:"seat,omitempty"`
	Departments []Department `json:"departments"`
	At          time.Time    `json:"at"`
}

// Decision is the agent's choice: Accepted when Department is the suggested top one.
type Decision struct {
	CallID     string    `json:"call_id"`
	Seat       string    `json:"seat,omitempty"`
	Department string    `json:"department"`
	Suggested  string    `json:"suggested,omitempty"`
	Accepted   bool      `json:"accepted"`
	At         time.Time `json:"at"`
}

// Alert is one change of a hotspot (high-frequency issue) alert.
type Alert struct {
	// ID is the alert's, the same on each of its changes; State the alert's state at At
	// ("raised", "grown", "acknowledged", "closed", "expired").
	ID    string `json:"id,omitempty"`
	State string `json:"state,omitempty"`
	// Until is when the alert lapses unless another call joins it (its last call's time
	// plus its window); zero when not known.
	Until      time.Time       `json:"until,omitzero"`
	Department string          `json:"department,omitempty"`
	Topic      string          `json:"topic,omitempty"`
	Count      int             `json:"count"`
	Data       json.RawMessage `json:"data,omitempty"`
	At         time.Time       `json:"at"`
}

func (Call) row()         {}
func (CallAnswered) row() {}
func (CallEnded) row()    {}
func (Leg) row()          {}
func (SeatState) row()    {}
func (Utterance) row()    {}
func (Suggestion) row()   {}
func (Decision) row()     {}
func (Alert) row()        {}

// CallDetail is a call with everything recorded about it.
type CallDetail struct {
	Call
	Legs        []Leg        `json:"legs"`
	Utterances  []Utterance  `json:"utterances"`
	Suggestions []Suggestion `json:"suggestions"`
	Decisions   []Decision   `json:"decisions"`
}

// CallFilter selects calls. Zero fields do not filter.
type CallFilter struct {
	Seat string
	// Department keeps the calls sent to it (the latest decision) or drafted for it;
	// Issue the calls whose work-order draft has that issue type (an id).
	Department, Issue string
	From              time.Time // offered at or after
	To                time.Time // offered before
	Limit             int       // 0: 100
}

// SearchQuery is a transcript search.
type SearchQuery struct {
	Text  string // terms separated by whitespace; every term must occur
	Seat  string // only this seat's calls when set
	Limit int    // 0: 50
}

// DayStats are the wallboard's figures for a period.
type DayStats struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	Failed    int `json:"failed"`
	// AnsweredIn20s counts the calls answered within 20 s of arriving (the service level).
	AnsweredIn20s int            `json:"answered_in_20s"`
	AvgWaitMS     int64          `json:"avg_wait_ms"`
	AvgTalkMS     int64          `json:"avg_talk_ms"`
	Departments   map[string]int `json:"departments"` // decided department id -> calls
	// Survey counts the satisfaction answers: "satisfied", "basic", "dissatisfied",
	// "no_answer".
	Survey map[string]int `json:"survey"`
}
