// Package wavfile reads the WAVs the transcriber accepts: mono 16-bit PCM, or G.711 µ-law
// (format code 7) or A-law (6), at any sample rate. Everything else gets a clear error.
package wavfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/zaf/g711"
)

// WAV format codes (the fmt chunk's wFormatTag).
const (
	formatPCM        = 1
	formatFloat      = 3
	formatALaw       = 6
	formatMuLaw      = 7
	formatExtensible = 0xFFFE // the real code follows in the sub-format GUID
)

// Reader yields the samples of one WAV as PCM16.
type Reader struct {
	// Rate is the sample rate in Hz.
	Rate int
	// Encoding is "pcm16", "mulaw" or "alaw".
	Encoding string
	data     io.Reader
	left     int64 // bytes of the data chunk not yet read
	buf      []byte
}

// fmtChunk is what the reader needs of a WAV's fmt chunk.
type fmtChunk struct {
	format, chans, bits uint16
	rate                uint32
}

// maxFmtSize bounds the fmt chunk we read into memory; real ones are 16–40 bytes.
const maxFmtSize = 1024

// NewReader parses the header and positions on the audio data. It walks the RIFF chunks
// itself, reading only small fmt chunks into memory: go-audio/wav allocates whatever size a
// LIST, smpl or cue chunk header claims (fuzzing found 4 GB allocations in crafted files).
func NewReader(r io.Reader) (*Reader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file (no RIFF/WAVE header)")
	}
	var fc *fmtChunk
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if fc == nil {
				return nil, errors.New("not a readable WAV file: no fmt chunk")
			}
			return nil, errors.New("WAV has no data chunk")
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtSize {
				return nil, fmt.Errorf("not a readable WAV file: fmt chunk of %d bytes", size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, errors.New("not a readable WAV file: fmt chunk cut short")
			}
			fc = &fmtChunk{format: binary.LittleEndian.Uint16(b[0:]), chans: binary.LittleEndian.Uint16(b[2:]),
				rate: binary.LittleEndian.Uint32(b[4:]), bits: binary.LittleEndian.Uint16(b[14:])}
			if fc.format == formatExtensible && size >= 26 {
				fc.format = binary.LittleEndian.Uint16(b[24:]) // the sub-format GUID starts with the code
			}
		case "data":
			if fc == nil {
				return nil, errors.New("not a readable WAV file: data before fmt chunk")
			}
			return newData(fc, r, size)
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return nil, errors.New("not a readable WAV file: chunk cut short")
			}
		}
	}
}

func newData(fc *fmtChunk, data io.Reader, size int64) (*Reader, error) {
	r := &Reader{Rate: int(fc.rate), data: data, left: size}
	switch {
	case fc.chans == 0:
		return nil, errors.New("not a readable WAV file: 0 channels")
	case fc.chans != 1:
		return nil, fmt.Errorf("unsupported WAV: %d channels (mono only; mix down first, e.g. sox in.wav -c 1 out.wav)", fc.chans)
	case fc.format == formatPCM && fc.bits == 16:
		r.Encoding = "pcm16"
	case fc.format == formatMuLaw && fc.bits == 8:
		r.Encoding = "mulaw"
	case fc.format == formatALaw && fc.bits == 8:
		r.Encoding = "alaw"
	case fc.format == formatPCM:
		return nil, fmt.Errorf("unsupported WAV: %d-bit PCM (16-bit only; convert with sox in.wav -b 16 out.wav)", fc.bits)
	case fc.format == formatFloat:
		return nil, errors.New("unsupported WAV: floating-point samples (convert with sox in.wav -e signed -b 16 out.wav)")
	default:
		return nil, fmt.Errorf("unsupported WAV: format code %d with %d-bit samples (PCM16, µ-law or A-law only)", fc.format, fc.bits)
	}
	if r.Rate < 4000 || r.Rate > 192000 {
		return nil, fmt.Errorf("unsupported WAV: sample rate %d Hz", r.Rate)
	}
	if r.left <= 0 {
		return nil, errors.New("WAV contains no audio")
	}
	return r, nil
}

// String describes the stream, e.g. "WAV(mulaw, 8000 Hz)".
func (r *Reader) String() string { return fmt.Sprintf("WAV(%s, %d Hz)", r.Encoding, r.Rate) }

// Read fills dst with up to len(dst) samples; io.EOF after the last. A data chunk cut short
// (a truncated file) ends the audio early without error, as players do.
func (r *Reader) Read(dst []int16) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	width := 1
	if r.Encoding == "pcm16" {
		width = 2
	}
	want := min(int64(len(dst)*width), r.left)
	if cap(r.buf) < int(want) {
		r.buf = make([]byte, want)
	}
	b := r.buf[:want]
	n, err := io.ReadFull(r.data, b)
	r.left -= int64(n)
	if err != nil {
		r.left = 0 // truncated: deliver what there is, then EOF
	}
	n -= n % width
	switch r.Encoding {
	case "pcm16":
		for i := 0; i < n/2; i++ {
			dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		n /= 2
	case "mulaw":
		for i := range n {
			dst[i] = g711.DecodeUlawFrame(b[i])
		}
	case "alaw":
		for i := range n {
			dst[i] = g711.DecodeAlawFrame(b[i])
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
