package media

import (
	"math/bits"
	"time"
)

// maxSeqJump is how far a sequence number may move before the stream counts as restarted
// (RFC 3550 appendix A.1 uses 3000 as MAX_DROPOUT).
const maxSeqJump = 3000

// seqStatus is what the sequence tracker says about one packet.
type seqStatus uint8

const (
	seqNew seqStatus = iota
	seqDuplicate
	seqTooOld
)

// recvStats tracks one leg's incoming stream: duplicates (a 64-packet bitmap behind the
// highest sequence number), losses (a hole leaving that bitmap never arrived), and the
// RFC 3550 interarrival jitter. It is not safe for concurrent use; the leg's lock guards it.
type recvStats struct {
	started   bool
	ssrc      uint32
	maxSeq    uint16
	cycles    uint32 // sequence number wraps, shifted left 16 (RFC 3550 appendix A.1)
	baseSeq   uint16 // the stream's first sequence number
	received  uint64 // packets of this stream (its SSRC) accepted, reordered ones included
	seen      uint64 // bit i: maxSeq-i arrived
	valid     int    // how many bits of seen are meaningful (packets since start, ≤ 64)
	lost      uint64 // holes that left the bitmap
	dups      uint64
	tooOld    uint64
	transit   int64
	haveTrans bool
	jitter    float64 // in RTP timestamp units, RFC 3550 §6.4.1
}

// update records a packet; lostNow is the number of packets newly declared lost.
func (s *recvStats) update(ssrc uint32, seq uint16) (st seqStatus, lostNow uint64) {
	if !s.started || ssrc != s.ssrc {
		s.restart(ssrc, seq)
		return seqNew, 0
	}
	d := int(int16(seq - s.maxSeq))
	switch {
	case d > 0 && d < maxSeqJump:
		lostNow = s.shift(d)
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
		s.seen |= 1
		s.received++
		return seqNew, lostNow
	case d <= 0 && -d < 64:
		if -d >= s.valid {
			// Older than the stream's first packet: reordered, not yet in the window.
			s.valid = -d + 1
		}
		bit := uint64(1) << uint(-d)
		if s.seen&bit != 0 {
			s.dups++
			return seqDuplicate, 0
		}
		s.seen |= bit
		s.received++
		return seqNew, 0
	case d <= 0 && -d < maxSeqJump:
		s.tooOld++
		return seqTooOld, 0
	}
	s.restart(ssrc, seq)
	return seqNew, 0
}

// restart folds the old stream's open holes into lost and begins a new one at seq.
func (s *recvStats) restart(ssrc uint32, seq uint16) {
	if s.started {
		s.lost += s.holes()
	}
	s.started, s.ssrc, s.maxSeq, s.seen, s.valid = true, ssrc, seq, 1, 1
	s.cycles, s.baseSeq, s.received = 0, seq, 1
	s.haveTrans = false
}

// shift moves the window forward by d packets, counting holes that fall out of it.
func (s *recvStats) shift(d int) uint64 {
	var lost uint64
	if d >= 64 {
		lost = uint64(s.valid-bits.OnesCount64(s.seen&mask(s.valid))) + uint64(d-64)
		s.seen, s.valid = 0, 64
		s.lost += lost
		return lost
	}
	// Bits that leave: positions 64-d..63 of the valid part.
	if s.valid+d > 64 {
		out := s.valid + d - 64
		leaving := (s.seen >> uint(64-d)) & mask(out)
		lost = uint64(out - bits.OnesCount64(leaving))
		s.valid = 64
	} else {
		s.valid += d
	}
	s.seen <<= uint(d)
	s.lost += lost
	return lost
}

// holes counts missing packets still inside the window.
func (s *recvStats) holes() uint64 {
	return uint64(s.valid - bits.OnesCount64(s.seen&mask(s.valid)))
}

// extHighest is the extended highest sequence number received (RFC 3550 §6.4.1).
func (s *recvStats) extHighest() uint32 { return s.cycles | uint32(s.maxSeq) }

// expected is how many packets the current stream has sent so far by its sequence
// numbers (RFC 3550 appendix A.3).
func (s *recvStats) expected() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.extHighest()) - uint64(s.baseSeq) + 1
}

// totalLost is the loss so far, holes in the window included.
func (s *recvStats) totalLost() uint64 { return s.lost + s.holes() }

// updateJitter applies RFC 3550's estimator; arrival is the packet's arrival time.
func (s *recvStats) updateJitter(rtpTS uint32, arrival time.Time, clockRate int) {
	arr := arrival.UnixNano() * int64(clockRate) / int64(time.Second)
	transit := arr - int64(rtpTS)
	if s.haveTrans {
		d := transit - s.transit
		// The timestamp is 32-bit; a wrap shows up as a jump of about 2^32.
		if d > 1<<31 || d < -(1<<31) {
			d = 0
		}
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTrans = transit, true
}

// jitterDuration converts the estimate to time.
func (s *recvStats) jitterDuration(clockRate int) time.Duration {
	if clockRate <= 0 {
		return 0
	}
	return time.Duration(s.jitter * float64(time.Second) / float64(clockRate))
}

func mask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}
