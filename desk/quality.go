package desk

// TypeQuality is a bridged call's audio turning poor or good again (CallQualityData);
// stored and pushed like the other call events.
const TypeQuality = "call.quality"

// CallQualityData is the payload of call.quality, sent while a call is bridged when its
// audio turns poor or good again: the verdict over the last rating interval, per leg.
// Poor flags the call; SeatPoor flags the seat too (the agent's leg is the seat's own
// network and phone).
type CallQualityData struct {
	Poor     bool             `json:"poor"`
	SeatPoor bool             `json:"seat_poor"`
	Legs     []LegQualityData `json:"legs"`
}

// LegQualityData is one leg's figures over the interval: an E-model MOS (ITU-T G.107),
// the worse direction's packet loss (0–1), interarrival jitter, and the round trip when
// the peer's RTCP gave one. Rated is false when too little audio passed to say.
type LegQualityData struct {
	Leg      string   `json:"leg"` // "caller" or "agent"
	Rated    bool     `json:"rated"`
	Poor     bool     `json:"poor"`
	MOS      float64  `json:"mos"`
	Loss     float64  `json:"loss"`
	JitterMS float64  `json:"jitter_ms"`
	RTTMS    *float64 `json:"rtt_ms,omitempty"`
}
