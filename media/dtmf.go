package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrShortDTMF reports an RFC 4733 payload shorter than one 4-byte event.
var ErrShortDTMF = errors.New("media: telephone-event payload shorter than 4 bytes")

// DTMFEvent is one RFC 4733 telephone-event payload.
type DTMFEvent struct {
	// Event is the RFC 4733 event code (0–9 digits, 10 '*', 11 '#', 12–15 A–D, 16 flash).
	Event uint8
	// Digit is the DTMF character for events 0–16 ('!' for flash), 0 for other events.
	Digit rune
	// End is the E bit: the event has ended (senders repeat the end packet).
	End bool
	// Volume is the power level in -dBm0 (0–63).
	Volume uint8
	// Duration is the event's length so far in RTP timestamp units.
	Duration uint16
}

// DurationAt converts the event's duration to time at the given RTP clock rate.
func (e DTMFEvent) DurationAt(clockRate int) time.Duration {
	if clockRate <= 0 {
		return 0
	}
	return time.Duration(e.Duration) * time.Second / time.Duration(clockRate)
}

// String prints the event like "digit 5 end 100ms".
func (e DTMFEvent) String() string {
	d := fmt.Sprintf("event %d", e.Event)
	if e.Digit != 0 {
		d = fmt.Sprintf("digit %c", e.Digit)
	}
	if e.End {
		d += " end"
	}
	return fmt.Sprintf("%s %v", d, e.DurationAt(SampleRate))
}

// ParseDTMF parses the first event of an RFC 4733 telephone-event payload. Later 4-byte
// blocks (redundant events) are ignored.
func ParseDTMF(payload []byte) (DTMFEvent, error) {
	if len(payload) < 4 {
		return DTMFEvent{}, fmt.Errorf("%w: %d bytes", ErrShortDTMF, len(payload))
	}
	ev := DTMFEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}
	ev.Digit = dtmfDigit(ev.Event)
	return ev, nil
}

// AppendDTMF appends the 4-byte RFC 4733 encoding of ev to b.
func AppendDTMF(b []byte, ev DTMFEvent) []byte {
	flags := ev.Volume & 0x3f
	if ev.End {
		flags |= 0x80
	}
	return append(b, ev.Event, flags, byte(ev.Duration>>8), byte(ev.Duration))
}

// DTMFCode returns the RFC 4733 event code of a DTMF character.
func DTMFCode(digit rune) (uint8, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return uint8(digit - '0'), true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return uint8(12 + digit - 'A'), true
	case digit >= 'a' && digit <= 'd':
		return uint8(12 + digit - 'a'), true
	case digit == '!':
		return 16, true
	}
	return 0, false
}

func dtmfDigit(event uint8) rune {
	switch {
	case event <= 9:
		return rune('0' + event)
	case event == 10:
		return '*'
	case event == 11:
		return '#'
	case event <= 15:
		return rune('A' + event - 12)
	case event == 16:
		return '!'
	}
	return 0
}

// dtmfTracker turns a stream of telephone-event packets into one report per event. An event
// is identified by its RTP timestamp (RFC 4733 §2.5.1.1); its end packet is usually sent
// three times, and an event whose end packets were all lost is reported when the next
// event starts.
type dtmfTracker struct {
	active   bool
	reported bool
	ts       uint32
	last     DTMFEvent
}

// update feeds one packet and returns the events to report, oldest first (at most two: an
// earlier event whose end was lost, and this one ending).
func (t *dtmfTracker) update(ts uint32, ev DTMFEvent) (out [2]DTMFEvent, n int) {
	if t.active && ts != t.ts {
		if !t.reported {
			out[n] = t.last
			n++
		}
		t.active = false
	}
	if !t.active {
		t.active, t.reported, t.ts = true, false, ts
	}
	if t.reported {
		return out, n
	}
	t.last = ev
	if ev.End {
		t.reported = true
		out[n] = ev
		n++
	}
	return out, n
}
