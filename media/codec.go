package media

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zaf/g711"

	"lianxin/media/g722"
)

// Codec is an RTP audio payload format as negotiated in SDP.
type Codec struct {
	// Name is the SDP encoding name, e.g. "PCMU".
	Name string
	// PayloadType is the RTP payload type the peer negotiated for it.
	PayloadType uint8
	// ClockRate is the RTP timestamp rate in Hz.
	ClockRate int
}

// Sample rates and framing shared by the G.711 path.
const (
	// SampleRate is the PCM rate of every G.711 leg and of the tap frames, and the RTP
	// clock of every codec the relay handles (G.722's included).
	SampleRate = 8000
	// WideRate is the PCM rate of a G.722 leg and of its wideband tap.
	WideRate = g722.SampleRate
	// FrameSamples is the number of samples in one 20 ms frame at SampleRate.
	FrameSamples = SampleRate / 50
	// FrameDuration is the packetisation interval the gateway sends and taps at.
	FrameDuration = 20 * time.Millisecond
	// TelephoneEventName is the SDP encoding name of RFC 4733 events.
	TelephoneEventName = "telephone-event"
)

// ErrUnsupportedCodec reports a codec the media layer cannot relay or decode.
var ErrUnsupportedCodec = errors.New("media: unsupported codec")

// PCMU is G.711 µ-law on its static payload type 0.
func PCMU() Codec { return Codec{Name: "PCMU", PayloadType: 0, ClockRate: SampleRate} }

// PCMA is G.711 A-law on its static payload type 8.
func PCMA() Codec { return Codec{Name: "PCMA", PayloadType: 8, ClockRate: SampleRate} }

// G722 is ITU-T G.722 on its static payload type 9: 16 kHz speech on an RTP clock of 8000
// (RFC 3551 §4.5.2), so its 20 ms packets are 160 bytes and 160 timestamp units, as G.711's.
func G722() Codec {
	return Codec{Name: "G722", PayloadType: g722.PayloadType, ClockRate: g722.ClockRate}
}

// SupportedCodecs lists the audio codecs the relay handles: the G.711 laws, which it
// relays between each other byte by byte, and G.722, which it transcodes to and from them.
func SupportedCodecs() []Codec { return []Codec{PCMU(), PCMA(), G722()} }

// CodecByName returns the supported codec with that SDP encoding name (case-insensitive)
// on its static payload type.
func CodecByName(name string) (Codec, error) {
	for _, c := range SupportedCodecs() {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return Codec{}, fmt.Errorf("%w: %q", ErrUnsupportedCodec, name)
}

// String prints the codec as in an SDP rtpmap, e.g. "PCMU/8000 (pt 0)".
func (c Codec) String() string {
	return fmt.Sprintf("%s/%d (pt %d)", c.Name, c.ClockRate, c.PayloadType)
}

// AudioRate is the sample rate of the codec's PCM: WideRate for G.722, SampleRate for G.711.
func (c Codec) AudioRate() int {
	if c.isG722() {
		return WideRate
	}
	return SampleRate
}

func (c Codec) isG722() bool { return c.Name == "G722" || strings.EqualFold(c.Name, "G722") }

// law identifies the G.711 companding law of a codec.
type law uint8

const (
	lawNone law = iota
	lawMu
	lawA
)

func (c Codec) law() law {
	// Exact names first: this runs per packet and EqualFold is slower.
	switch c.Name {
	case "PCMU":
		return lawMu
	case "PCMA":
		return lawA
	}
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return lawMu
	case strings.EqualFold(c.Name, "PCMA"):
		return lawA
	}
	return lawNone
}

// validate reports whether the relay can handle c.
func (c Codec) validate() error {
	if (c.law() == lawNone && !c.isG722()) || c.ClockRate != SampleRate || c.PayloadType > 127 {
		return fmt.Errorf("%w: %s", ErrUnsupportedCodec, c)
	}
	return nil
}

// Decode decodes a G.711 payload into dst (one sample per byte) and returns the samples
// written; dst must hold len(payload) samples or the payload is truncated to fit. G.722
// carries state from packet to packet and is decoded by the leg, not here: it returns 0.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	switch c.law() {
	case lawMu:
		for i := range n {
			dst[i] = g711.DecodeUlawFrame(payload[i])
		}
	case lawA:
		for i := range n {
			dst[i] = g711.DecodeAlawFrame(payload[i])
		}
	default:
		return 0
	}
	return n
}

// Encode encodes PCM16 samples into dst (one byte per sample) and returns the bytes
// written; like Decode, G.711 only (0 for G.722).
func (c Codec) Encode(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	switch c.law() {
	case lawMu:
		for i := range n {
			dst[i] = g711.EncodeUlawFrame(pcm[i])
		}
	case lawA:
		for i := range n {
			dst[i] = g711.EncodeAlawFrame(pcm[i])
		}
	default:
		return 0
	}
	return n
}

// transcode converts a G.711 payload in place from one law to the other; same law is a no-op.
func transcode(buf []byte, from, to law) {
	switch {
	case from == to:
	case from == lawMu && to == lawA:
		for i, b := range buf {
			buf[i] = g711.Ulaw2AlawFrame(b)
		}
	case from == lawA && to == lawMu:
		for i, b := range buf {
			buf[i] = g711.Alaw2UlawFrame(b)
		}
	}
}

// Direction is the media direction of a leg from the gateway's point of view, as in the
// SDP the gateway sends to that peer (RFC 3264).
type Direction uint8

// Directions, from the gateway's point of view.
const (
	// SendRecv relays both ways.
	SendRecv Direction = iota
	// SendOnly sends to the peer; the peer is not expected to send (the gateway holds it).
	SendOnly
	// RecvOnly receives from the peer but sends nothing to it (the peer put the call on hold).
	RecvOnly
	// Inactive neither sends nor expects media.
	Inactive
)

// String returns the SDP attribute name.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Sends reports whether the gateway sends media to the peer.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the gateway expects media from the peer.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse is the answer to a peer's direction: a peer's sendonly is the gateway's recvonly.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// ParseDirection parses an SDP direction attribute name; an empty string is sendrecv.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "sendrecv":
		return SendRecv, nil
	case "sendonly":
		return SendOnly, nil
	case "recvonly":
		return RecvOnly, nil
	case "inactive":
		return Inactive, nil
	}
	return SendRecv, fmt.Errorf("media: unknown direction %q", s)
}
