package webrtcseat

import (
	"fmt"
	"strings"

	"github.com/hraban/opus"
	"github.com/pion/webrtc/v4"

	"lianxin/media"
)

// Codec names as configured (case-insensitive) and as the relay uses them.
const (
	Opus = "opus"
	PCMU = "PCMU"
	PCMA = "PCMA"
)

// DefaultCodecs is the preference when the config names none: Opus, then G.711.
var defaultCodecs = []string{Opus, PCMU, PCMA}

// capability is the pion codec of a configured name.
func capability(name string) (webrtc.RTPCodecParameters, error) {
	switch strings.ToLower(name) {
	case "opus":
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
			ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, nil
	case "pcmu":
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU,
			ClockRate: 8000, Channels: 1}, PayloadType: 0}, nil
	case "pcma":
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA,
			ClockRate: 8000, Channels: 1}, PayloadType: 8}, nil
	}
	return webrtc.RTPCodecParameters{}, fmt.Errorf("webrtcseat: unsupported codec %q (opus, PCMU, PCMA)", name)
}

// frameCodec turns 8 kHz PCM frames into one negotiated codec's payloads and back. The
// relay works at 8 kHz because the call flow's legs do: libopus decodes straight to 8 kHz
// and encodes from it, so no resampler sits in the path.
type frameCodec interface {
	// decode writes the samples of one payload into pcm and returns how many.
	decode(payload []byte, pcm []int16) (int, error)
	// encode writes one payload for the frame pcm into out and returns its length.
	encode(pcm []int16, out []byte) (int, error)
	// clockRate is the RTP clock of the codec (48000 for Opus).
	clockRate() int
}

// newFrameCodec builds a codec instance for one stream; an Opus instance holds libopus
// state and serves one direction only.
func newFrameCodec(mime string) (frameCodec, error) {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeOpus):
		return newOpusCodec()
	case strings.ToLower(webrtc.MimeTypePCMU):
		return g711Codec{media.PCMU()}, nil
	case strings.ToLower(webrtc.MimeTypePCMA):
		return g711Codec{media.PCMA()}, nil
	}
	return nil, fmt.Errorf("webrtcseat: no codec for %s", mime)
}

type g711Codec struct{ c media.Codec }

func (g g711Codec) decode(p []byte, pcm []int16) (int, error)   { return g.c.Decode(pcm, p), nil }
func (g g711Codec) encode(pcm []int16, out []byte) (int, error) { return g.c.Encode(out, pcm), nil }
func (g g711Codec) clockRate() int                              { return media.SampleRate }

// opusComplexity is the encoder's CPU/quality trade (0–10).
const opusComplexity = 5

// opusCodec is libopus at 8 kHz mono: narrowband speech, as the caller leg carries.
type opusCodec struct {
	enc *opus.Encoder
	dec *opus.Decoder
}

func newOpusCodec() (*opusCodec, error) {
	enc, err := opus.NewEncoder(media.SampleRate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("webrtcseat: opus encoder: %w", err)
	}
	// telephone-band speech from a G.711 leg gains nothing from libopus's top complexity
	// (10), which costs about twice the CPU of 5
	if err := enc.SetComplexity(opusComplexity); err != nil {
		return nil, fmt.Errorf("webrtcseat: opus encoder: %w", err)
	}
	dec, err := opus.NewDecoder(media.SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("webrtcseat: opus decoder: %w", err)
	}
	return &opusCodec{enc: enc, dec: dec}, nil
}

func (o *opusCodec) decode(p []byte, pcm []int16) (int, error) { return o.dec.Decode(p, pcm) }
func (o *opusCodec) encode(pcm []int16, out []byte) (int, error) {
	return o.enc.Encode(pcm, out)
}
func (o *opusCodec) clockRate() int { return 48000 }

// wideDecoder gives the agent's speech at 16 kHz for recognition: an Opus page decoded
// again by a 16 kHz libopus decoder (its own state, beside the 8 kHz one of the relay), a
// G.711 page's 8 kHz frame interpolated to 16 kHz. Decoding twice costs a few tens of µs a
// frame; the alternative, decoding at 16 kHz and filtering down for the hop, would put a
// hand-written low-pass filter in the relay path.
type wideDecoder struct {
	dec  *opus.Decoder // nil for G.711
	pcm  []int16
	last int16 // the previous frame's last sample, for interpolation across frames
}

func newWideDecoder(mime string) (*wideDecoder, error) {
	w := &wideDecoder{pcm: make([]int16, 960*6)}
	if strings.EqualFold(mime, webrtc.MimeTypeOpus) {
		dec, err := opus.NewDecoder(16000, 1)
		if err != nil {
			return nil, fmt.Errorf("webrtcseat: opus decoder: %w", err)
		}
		w.dec = dec
	}
	return w, nil
}

// decode returns the 16 kHz samples of payload (narrow is its 8 kHz decoding), or nil.
func (w *wideDecoder) decode(payload []byte, narrow []int16) []int16 {
	if w.dec != nil {
		n, err := w.dec.Decode(payload, w.pcm)
		if err != nil || n == 0 {
			return nil
		}
		return w.pcm[:n]
	}
	out := w.pcm[:0]
	prev := w.last
	for _, s := range narrow {
		out = append(out, int16((int32(prev)+int32(s))/2), s)
		prev = s
	}
	w.last = prev
	return out
}
