package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	wavHeaderLen  = 44
	recChannels   = 2
	recFrameBytes = recChannels * 2
	// maxDataBytes keeps the RIFF size within 32 bits (about 37 hours of call).
	maxDataBytes = math.MaxUint32 - wavHeaderLen
)

// ErrRecordingFull reports a recording that reached the WAV size limit.
var ErrRecordingFull = errors.New("media: recording reached the WAV size limit")

// RecorderOptions configures a Recorder.
type RecorderOptions struct {
	// FlushInterval is how much audio is buffered between writes; after each write the
	// RIFF and data sizes are patched, so a crash loses at most this much. Default 1 s.
	FlushInterval time.Duration
	// MaxSkew is how far one channel may run ahead of the other before the lagging one is
	// padded with silence (its frames were dropped or it stopped). Default 2 s.
	MaxSkew time.Duration
	// Logger receives the recorder's logs; nil discards them.
	Logger *slog.Logger
}

// Recorder writes one call as a stereo WAV (8 kHz PCM16, left caller, right agent) while
// the call runs. Frames are placed by their Offset, so the channels stay time-aligned and a
// leg that sent nothing (or lost frames) is silence. The header is valid after every flush:
// a process killed mid-call leaves a playable file up to the last flush.
//
// The header is written by hand rather than by go-audio/wav's Encoder: the Encoder only
// fixes the sizes in Close (no crash safety) and encodes sample by sample through
// encoding/binary, which is too slow for hundreds of concurrent recordings. Tests read the
// files back with go-audio/wav's Decoder and sox.
type Recorder struct {
	path      string
	log       *slog.Logger
	flushN    int64 // frames per flush
	skewN     int   // samples of allowed skew
	mu        sync.Mutex
	f         *os.File
	pend      [recChannels][]int16
	written   int64 // sample frames (left+right pairs) committed to buf or file
	onDisk    int64 // sample frames on disk and in the header
	buf       []byte
	closed    bool
	err       error
	left      recChannel
	right     recChannel
	lastFlush int64
}

type recChannel struct {
	r    *Recorder
	ch   int
	name string
}

// NewRecorder creates the file at path (and its directory) and writes an empty header.
func NewRecorder(path string, opts RecorderOptions) (*Recorder, error) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("media: recording directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("media: create recording: %w", err)
	}
	r := &Recorder{
		path:   path,
		log:    opts.Logger.With("recording", path),
		flushN: int64(opts.FlushInterval * SampleRate / time.Second),
		skewN:  int(opts.MaxSkew * SampleRate / time.Second),
		f:      f,
	}
	r.left = recChannel{r: r, ch: 0, name: "recorder(caller)"}
	r.right = recChannel{r: r, ch: 1, name: "recorder(agent)"}
	if _, err := f.Write(wavHeader(0)); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("media: write recording header: %w", err)
	}
	return r, nil
}

// wavHeader is the canonical 44-byte header of a stereo 8 kHz PCM16 file.
func wavHeader(dataBytes uint32) []byte {
	h := make([]byte, wavHeaderLen)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], recChannels)
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], SampleRate*recFrameBytes)
	binary.LittleEndian.PutUint16(h[32:], recFrameBytes)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	return h
}

// String names the recorder by its file.
func (r *Recorder) String() string { return "recorder(" + r.path + ")" }

// Path is the recording's file.
func (r *Recorder) Path() string { return r.path }

// Caller is the left channel's writer (prints "recorder(caller)").
func (r *Recorder) Caller() FrameWriter { return &r.left }

// Agent is the right channel's writer (prints "recorder(agent)").
func (r *Recorder) Agent() FrameWriter { return &r.right }

// WriteFrame writes to the channel.
func (c *recChannel) WriteFrame(f Frame) error { return c.r.write(c.ch, f) }

// String prints the channel's kind (low cardinality, for the fan-out drop metric).
func (c *recChannel) String() string { return c.name }

// Duration is how much audio is committed (both channels).
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(r.written) * time.Second / SampleRate
}

func (r *Recorder) write(ch int, f Frame) error {
	if f.Rate != SampleRate {
		return fmt.Errorf("media: recorder takes %d Hz frames, got %d Hz", SampleRate, f.Rate)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.err != nil {
		return r.err
	}
	samples := f.Samples
	rel := int64(f.Offset*SampleRate/time.Second) - r.written
	if rel < 0 {
		// Already committed (the other channel ran ahead by more than MaxSkew): drop the head.
		if -rel >= int64(len(samples)) {
			return nil
		}
		samples, rel = samples[-rel:], 0
	}
	p := r.pend[ch]
	if int(rel) > len(p) {
		p = append(p, make([]int16, int(rel)-len(p))...)
	}
	// Overlap with what is pending: the newer frame wins.
	r.pend[ch] = append(p[:rel], samples...)
	r.commit(false)
	return r.err
}

// commit interleaves what both channels have (padding a lagging one beyond MaxSkew, or
// both to the longer at the end) and flushes when a FlushInterval is due.
func (r *Recorder) commit(final bool) {
	l, rt := len(r.pend[0]), len(r.pend[1])
	target := min(l, rt)
	if final {
		target = max(l, rt)
	} else if d := max(l, rt) - target; d > r.skewN {
		target = max(l, rt) - r.skewN
	}
	for ch := range r.pend {
		if n := len(r.pend[ch]); n < target {
			r.pend[ch] = append(r.pend[ch], make([]int16, target-n)...)
		}
	}
	if target > 0 {
		for i := range target {
			r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.pend[0][i]))
			r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.pend[1][i]))
		}
		for ch := range r.pend {
			n := copy(r.pend[ch], r.pend[ch][target:])
			r.pend[ch] = r.pend[ch][:n]
		}
		r.written += int64(target)
	}
	if final || r.written-r.lastFlush >= r.flushN {
		r.flushLocked()
	}
}

// Flush writes buffered audio and patches the header now.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.flushLocked()
	return r.err
}

func (r *Recorder) flushLocked() {
	r.lastFlush = r.written
	if r.err != nil || len(r.buf) == 0 {
		return
	}
	if (r.onDisk*recFrameBytes)+int64(len(r.buf)) > maxDataBytes {
		r.err = ErrRecordingFull
		r.log.Warn("recording full; further audio is not recorded")
		return
	}
	if _, err := r.f.Write(r.buf); err != nil {
		r.err = fmt.Errorf("media: write recording: %w", err)
		return
	}
	r.onDisk += int64(len(r.buf) / recFrameBytes)
	r.buf = r.buf[:0]
	data := uint32(r.onDisk * recFrameBytes)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 36+data)
	if _, err := r.f.WriteAt(b[:], 4); err != nil {
		r.err = fmt.Errorf("media: patch recording header: %w", err)
		return
	}
	binary.LittleEndian.PutUint32(b[:], data)
	if _, err := r.f.WriteAt(b[:], 40); err != nil {
		r.err = fmt.Errorf("media: patch recording header: %w", err)
	}
}

// Close writes what is pending (the shorter channel padded with silence), finalises the
// header, syncs and closes the file; it is idempotent and returns the first error seen.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	r.commit(true)
	if err := r.f.Sync(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: sync recording: %w", err)
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: close recording: %w", err)
	}
	return r.err
}
