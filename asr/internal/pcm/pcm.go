// Package pcm holds the small audio conversions the network adapters share: PCM16 and
// float32 wire encodings, an in-memory WAV file, and a Timeline that maps positions in
// the audio an engine actually received back to the call's own clock.
package pcm

import (
	"encoding/binary"
	"math"
	"time"
)

// AppendS16LE appends samples as signed 16-bit little-endian PCM.
func AppendS16LE(dst []byte, s []int16) []byte {
	for _, v := range s {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}

// AppendF32LE appends samples as float32 little-endian in [-1, 1), the sherpa-onnx input.
func AppendF32LE(dst []byte, s []int16) []byte {
	for _, v := range s {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)/32768))
	}
	return dst
}

// S16LE decodes signed 16-bit little-endian PCM; a trailing odd byte is ignored.
func S16LE(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// F32LE decodes float32 little-endian samples into PCM16, clipping to the int16 range.
// ok is false when a sample is NaN, infinite or far outside [-1, 1] — a sign that the bytes
// are not float32 at all (PCM16 sent where float32 is expected).
func F32LE(b []byte) (out []int16, ok bool) {
	out = make([]int16, len(b)/4)
	ok = len(b)%4 == 0
	for i := range out {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || f > 4 || f < -4 {
			ok = false
			f = 0
		}
		out[i] = int16(max(-32768, min(32767, f*32768)))
	}
	return out, ok
}

// WAV returns a complete mono PCM16 WAV file holding samples at rate.
func WAV(samples []int16, rate int) []byte {
	n := len(samples) * 2
	b := make([]byte, 0, 44+n)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+n))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, 1) // mono
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*2))
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	return AppendS16LE(b, samples)
}

// Duration of n samples at rate.
func Duration(n, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second / time.Duration(rate)
}

// Seconds converts engine seconds (float) to a Duration.
func Seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Timeline maps a position in the audio an engine received (which is contiguous, starting
// at 0) to the time on the original stream, where frames may have been dropped, gated away
// or replayed. It stores only discontinuities, so it stays tiny.
type Timeline struct {
	segs []seg
	end  time.Duration // engine-side position after the last appended audio
}

type seg struct{ inner, orig time.Duration }

// Append records that the next d of engine audio came from original time orig.
func (t *Timeline) Append(orig, d time.Duration) {
	if n := len(t.segs); n == 0 || t.segs[n-1].orig+(t.end-t.segs[n-1].inner) != orig {
		t.segs = append(t.segs, seg{inner: t.end, orig: orig})
	}
	t.end += d
}

// End is the engine-side length of the audio appended so far.
func (t *Timeline) End() time.Duration { return t.end }

// Map converts an engine-side position to original time. Positions before the first
// segment map to its start.
func (t *Timeline) Map(inner time.Duration) time.Duration {
	if len(t.segs) == 0 {
		return inner
	}
	lo, hi := 0, len(t.segs)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if t.segs[mid].inner <= inner {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	s := t.segs[lo]
	if inner < s.inner {
		return s.orig
	}
	return s.orig + inner - s.inner
}

// Reset forgets everything (a new engine connection starts at position 0).
func (t *Timeline) Reset() { t.segs, t.end = t.segs[:0], 0 }
