package media

import (
	"math"
	"time"
)

// The E-model (ITU-T G.107) rates a call from its impairments on a scale R of 0 to 100 and
// maps R to a mean opinion score. The gateway relays G.711 with the phones' own packet loss
// concealment, so only two impairments vary from call to call: delay and packet loss. Every
// other G.107 parameter is left at its default, which gives R = 93.2 for a perfect call.
const (
	// rDefault is R with every G.107 parameter at its default value (G.107 §7.7).
	rDefault = 93.2
	// ieG711 and bplG711PLC are G.711's equipment impairment factor and packet-loss
	// robustness with packet loss concealment (ITU-T G.113 Appendix I, Table I.3).
	ieG711     = 0
	bplG711PLC = 25.1
	// burstRandom is G.107's burst ratio for random loss: RTCP reports do not say how
	// losses cluster, so they are taken as independent.
	burstRandom = 1
)

// RFactor is the E-model's transmission rating for a G.711 call with one-way mouth-to-ear
// delay d and packet loss ppl (a fraction 0–1):
//
//	R = 93.2 − Id(d) − Ie,eff(ppl)
//
// Id is Cole and Rosenbluth's fit of G.107's delay impairment at default parameters
// ("Voice over IP performance monitoring", ACM SIGCOMM CCR 31(2), 2001, eq. 8), d in ms
// and H the unit step:
//
//	Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)
//
// Ie,eff is G.107 (12/2011) §7.5, Ppl in percent:
//
//	Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl), Ie = 0, Bpl = 25.1, BurstR = 1
func RFactor(d time.Duration, ppl float64) float64 {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 0 {
		ms = 0
	}
	id := 0.024 * ms
	if ms > 177.3 {
		id += 0.11 * (ms - 177.3)
	}
	p := 100 * math.Min(math.Max(ppl, 0), 1)
	ie := ieG711 + (95-ieG711)*p/(p/burstRandom+bplG711PLC)
	return rDefault - id - ie
}

// MOSFromR is G.107 Annex B's conversion of R to a mean opinion score (conversational
// quality, 1 to 4.5):
//
//	MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶ for 0 < R < 100
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// MOS is the E-model estimate for a G.711 leg: its one-way delay is half the round trip
// plus a 20 ms frame plus a jitter buffer holding twice the interarrival jitter, as an
// adaptive one settles to; loss is the leg's worse direction.
func MOS(rtt, jitter time.Duration, loss float64) float64 {
	return MOSFromR(RFactor(rtt/2+FrameDuration+2*jitter, loss))
}
