package callflow

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"lianxin/asr"
	"lianxin/media"
)

// Media is a leg's negotiated RTP media, as its dialog agreed it.
type Media struct {
	Addr        netip.AddrPort
	Codec       string // "PCMU", "PCMA" or "G722"
	PayloadType uint8
	DTMFType    uint8 // RFC 4733 payload type; 0 when not negotiated
	// Direction is the peer's: sendonly means the peer holds the call.
	Direction media.Direction
	// SRTP are the leg's keys when its media is encrypted; the zero value is plain RTP.
	SRTP media.SRTPKeys
	// RTCP is where the peer takes RTCP: the zero value is its RTP port + 1.
	RTCP media.RTCPPeer
}

// Caller is the caller's dialog (a SIP INVITE today).
type Caller interface {
	// Context ends, with a cause, when the caller hangs up or the dialog fails.
	Context() context.Context
	// Remote is the caller's negotiated media.
	Remote() Media
	// Codecs are the codecs the caller offered, preferred first.
	Codecs() []string
	// Progress sends early media from local (the caller hears it but is not yet billed).
	Progress(local netip.AddrPort) error
	// Answer connects the caller with media at local; it fails when the caller does not
	// confirm (a SIP ACK) before ctx ends.
	Answer(ctx context.Context, local netip.AddrPort) error
	// Reject refuses the call before answer.
	Reject(r Rejection) error
	// Hangup ends an answered call (or cancels an unanswered one).
	Hangup(ctx context.Context) error
	// OnMediaChange sets the function told about hold, resume and moves.
	OnMediaChange(f func(Media))
}

// Prober is a Caller whose phone can be asked whether it is still there (a SIP OPTIONS in
// the call's dialog). A queued caller who sends no RTP is asked this way, so one whose
// phone vanished without a CANCEL leaves the queue instead of waiting for max_wait.
type Prober interface {
	// Probe returns nil when the phone answered, ErrCallerGone when it answered that it
	// knows no such call, and another error when no answer came before ctx ended.
	Probe(ctx context.Context) error
}

// Inbound is a new call as signalling delivered it.
type Inbound struct {
	Caller    Caller
	SIPCallID string
	Line      string // the dialled number
	From      string // the caller's number
}

// Ring asks a seat phone to take a call.
type Ring struct {
	// CallID is the flow's id of the call (what the store and screens know it by).
	CallID   string
	Seat     string
	Local    netip.AddrPort // where the gateway receives the seat's media
	Codecs   []string       // offered, preferred first
	CallerID string
}

// SeatPhone rings seats: a SIP phone registered for the seat today, a browser next.
type SeatPhone interface {
	// Ring returns once the seat has answered, or with the context's cause when it did not
	// answer in time or the caller left.
	Ring(ctx context.Context, r Ring) (SeatCall, error)
}

// SeatCall is an answered seat's side of the call.
type SeatCall interface {
	// Context ends, with a cause, when the seat hangs up.
	Context() context.Context
	Remote() Media
	Hangup(ctx context.Context) error
	OnMediaChange(f func(Media))
}

// WidebandAgent is a SeatCall that hears the agent better than the call's RTP leg carries
// it: a browser's Opus decoded at 16 kHz, where the leg is G.711 at 8 kHz. The flow then
// feeds recognition of the agent's side from it; relay and recording stay on the leg. A
// seat whose own leg is wideband (a G.722 desk phone) is fed the same way from the leg.
type WidebandAgent interface {
	// AgentRate is the rate of the frames TapAgent delivers.
	AgentRate() int
	// TapAgent starts pushing the agent's speech to w as it decodes (nil stops). Frames
	// are lent, as everywhere in media, and their Offset counts from the first call.
	TapAgent(w media.FrameWriter)
}

// Queue hands out seats: the ACD.
type Queue interface {
	Acquire(ctx context.Context, line string, exclude map[string]bool) (string, error)
	Answered(seat string)
	NoAnswer(seat string)
	Release(seat string)
}

// Observer is told what happens to calls (the screens and the store). CallArrived comes
// first, before the caller is queued, so a call has a record from its first moment;
// CallOffered comes each time a seat starts ringing for it.
type Observer interface {
	CallArrived(ci *Info)
	CallOffered(ci *Info)
	CallAnswered(ci *Info)
	CallEnded(ci *Info, o Outcome, cause error)
	DTMF(ci *Info, leg string, digit rune)
	// CallQuality comes while a call is bridged, when its audio turns poor or good again
	// (and each minute it stays poor).
	CallQuality(ci *Info, q CallQuality)
}

// TranscriptSink receives a call's recognition results.
type TranscriptSink interface {
	Result(ci *Info, channel string, r asr.Result, delayed bool)
	// StreamFailed reports a leg that could not be transcribed live.
	StreamFailed(ci *Info, channel string, err error)
}

// Recognisers picks the engine of a line.
type Recognisers interface {
	ForLine(line string) (asr.Engine, error)
}

// Info is what the rest of the gateway knows about one call.
type Info struct {
	ID        string
	SIPCallID string
	Line      string
	From      string
	Seat      string
	Offered   time.Time
	Answered  time.Time
	Ended     time.Time
	Recording string
	// CallerMedia and AgentMedia are the legs' negotiated media (for the store's leg rows).
	CallerMedia, AgentMedia Media
	// Survey is the caller's satisfaction answer when one was asked for.
	Survey SurveyResult
	// CallerQuality and AgentQuality are the legs' quality over the whole call, taken when
	// the bridge ends.
	CallerQuality, AgentQuality media.Quality

	log *slog.Logger
}

// Log is the call's logger.
func (ci *Info) Log() *slog.Logger { return ci.log }

// legWideband is the WidebandAgent of a seat whose RTP leg itself carries 16 kHz (G.722).
type legWideband struct{ leg *media.Leg }

func (w legWideband) AgentRate() int                { return media.WideRate }
func (w legWideband) TapAgent(fw media.FrameWriter) { w.leg.TapWideband(fw) }
