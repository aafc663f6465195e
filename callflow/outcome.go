package callflow

import (
	"errors"

	"lianxin/seat"
)

// Outcome is how a call ended, as the metrics, the store and the screens count it.
type Outcome uint8

// Outcomes. Every call ends with exactly one.
const (
	// Completed: a seat answered; the call ran until a side hung up or its media died.
	Completed Outcome = iota + 1
	// Abandoned: the caller left before a seat answered.
	Abandoned
	// Failed: the gateway could not serve the call (queue timeout or full, no media port…).
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Abandoned:
		return "abandoned"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Rejection is why a caller is refused before any seat answers. The caller's dialog turns
// it into its own protocol's answer (SIP: 480, 486, 404, 503, 500).
type Rejection uint8

// Rejections.
const (
	// RejectNoAgent: no seat answered within the queue's maximum wait.
	RejectNoAgent Rejection = iota + 1
	// RejectQueueFull: the queue holds as many callers as it may.
	RejectQueueFull
	// RejectNoSeats: no seat serves the dialled line.
	RejectNoSeats
	// RejectUnavailable: the gateway is shutting down or out of media ports.
	RejectUnavailable
	// RejectInternal: anything else.
	RejectInternal
)

func (r Rejection) String() string {
	switch r {
	case RejectNoAgent:
		return "no agent free"
	case RejectQueueFull:
		return "queue full"
	case RejectNoSeats:
		return "no seats serve this number"
	case RejectUnavailable:
		return "service unavailable"
	case RejectInternal:
		return "internal error"
	}
	return "unknown"
}

// Causes a call's context ends with.
var (
	ErrNoAnswer = errors.New("seat did not answer in time")
	ErrInactive = errors.New("no RTP from either side: dead call")
	ErrShutdown = errors.New("gateway shutting down")
	// ErrCallerGone ends a queued call whose caller's phone is gone: it left two probes
	// in a row unanswered, or answered that it knows no such call.
	ErrCallerGone = errors.New("caller's phone is gone")
	errNoPort     = errors.New("no media port")
)

// rejectionFor maps a queueing or dialling failure to what the caller is told.
func rejectionFor(err error) Rejection {
	switch {
	case errors.Is(err, seat.ErrQueueTimeout):
		return RejectNoAgent
	case errors.Is(err, seat.ErrQueueFull):
		return RejectQueueFull
	case errors.Is(err, seat.ErrNoSeats):
		return RejectNoSeats
	case errors.Is(err, seat.ErrClosed), errors.Is(err, ErrShutdown), errors.Is(err, errNoPort):
		return RejectUnavailable
	}
	return RejectInternal
}
