package media

import "time"

// Quality is a leg's call quality so far: what the gateway measured of the stream it
// receives, what the peer's RTCP reports say of the stream the gateway sends, and the
// round trip between them. Counts are cumulative; Since gives an interval's figures.
type Quality struct {
	// Expected counts the peer's packets by their sequence numbers, Lost those that never
	// arrived.
	Expected, Lost uint64
	// Jitter is the RFC 3550 interarrival jitter of the peer's stream.
	Jitter time.Duration

	// PeerReports counts the peer's report blocks about the gateway's stream; the Peer
	// figures mean something only when it is above zero.
	PeerReports uint64
	// PeerExpected and PeerLost are the peer's count of the gateway's packets, less the
	// sequence numbers the gateway relayed a gap for (lost before this leg, on the other).
	PeerExpected, PeerLost uint64
	// PeerJitter is the interarrival jitter the peer measured of the gateway's stream.
	PeerJitter time.Duration

	// RTT is the latest round trip from the peer's report blocks (RFC 3550 §6.4.1);
	// RTTSamples counts them, 0 when it was never measured. A peer that counts its delay
	// in whole milliseconds (baresip) makes a sub-millisecond path read 0–1 ms.
	RTT        time.Duration
	RTTSamples uint64

	// RTCPSent and RTCPReceived count compound RTCP packets, RTCPMalformed those from the
	// peer that did not read as RTCP; PeerBye is set once the peer said BYE.
	RTCPSent, RTCPReceived, RTCPMalformed uint64
	PeerBye                               bool
}

// LossFraction is the share of the peer's packets that never arrived (0–1).
func (q Quality) LossFraction() float64 { return ratio(q.Lost, q.Expected) }

// PeerLossFraction is the share of the gateway's packets the peer reports lost on this leg.
func (q Quality) PeerLossFraction() float64 { return ratio(q.PeerLost, q.PeerExpected) }

// Measured reports whether the leg carried anything to rate.
func (q Quality) Measured() bool { return q.Expected > 0 || q.PeerExpected > 0 }

// MOS is the E-model estimate of the leg (see MOS): its worse direction's loss and jitter
// and the round trip when measured. It is 0 when nothing was measured.
func (q Quality) MOS() float64 {
	if !q.Measured() {
		return 0
	}
	return MOS(q.RTT, max(q.Jitter, q.PeerJitter), max(q.LossFraction(), q.PeerLossFraction()))
}

// Since is the quality of the interval after earlier, a snapshot of the same leg: counts
// are the interval's, jitter and round trip the latest.
func (q Quality) Since(earlier Quality) Quality {
	q.Expected = sub(q.Expected, earlier.Expected)
	q.Lost = min(sub(q.Lost, earlier.Lost), q.Expected)
	q.PeerReports = sub(q.PeerReports, earlier.PeerReports)
	q.PeerExpected = sub(q.PeerExpected, earlier.PeerExpected)
	q.PeerLost = min(sub(q.PeerLost, earlier.PeerLost), q.PeerExpected)
	q.RTTSamples = sub(q.RTTSamples, earlier.RTTSamples)
	q.RTCPSent = sub(q.RTCPSent, earlier.RTCPSent)
	q.RTCPReceived = sub(q.RTCPReceived, earlier.RTCPReceived)
	q.RTCPMalformed = sub(q.RTCPMalformed, earlier.RTCPMalformed)
	return q
}

func ratio(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return min(float64(part)/float64(whole), 1)
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// Quality returns the leg's call quality so far.
func (l *Leg) Quality() Quality {
	l.mu.Lock()
	lost := l.rs.totalLost()
	q := Quality{Expected: l.stats.PacketsIn + lost, Lost: lost, Jitter: l.rs.jitterDuration(SampleRate)}
	l.mu.Unlock()
	l.out.mu.Lock()
	sent, gaps, first := l.out.sent, l.out.gaps, l.out.gapFirst
	l.out.mu.Unlock()
	l.rtcp.quality(&q, sent, gaps, first)
	return q
}
