// Package media carries call audio: RTP sessions, the jitter/reorder window, G.711 and
// RFC 4733 codecs, resampling, frame fan-out and the stereo WAV recorder.
package media

import "time"

// Frame is a block of mono PCM16 audio, normally 20 ms, with its position in the call.
type Frame struct {
	// Samples are signed 16-bit linear PCM, mono.
	Samples []int16
	// Rate is the sample rate in Hz (8000 for G.711 legs, 16000 for wideband).
	Rate int
	// Offset is the time of the first sample relative to the start of the stream it belongs to.
	Offset time.Duration
}

// Duration is how much audio the frame holds.
func (f Frame) Duration() time.Duration {
	if f.Rate <= 0 {
		return 0
	}
	return time.Duration(len(f.Samples)) * time.Second / time.Duration(f.Rate)
}

// FrameWriter is the push-style sink every audio consumer implements. WriteFrame must not
// block the caller for long: the RTP relay calls it on the media path. Frame samples are
// lent, not given: a writer that keeps audio beyond WriteFrame must copy it, which keeps
// the media path free of allocations.
type FrameWriter interface {
	WriteFrame(Frame) error
	String() string
}
