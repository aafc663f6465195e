package media

import "time"

const (
	// MaxJitter is the largest reorder window a tap accepts: live speech to a recogniser
	// and a recorder gains nothing from more.
	MaxJitter = 60 * time.Millisecond
	// DefaultJitter is the reorder window when BridgeOptions.Jitter is zero.
	DefaultJitter = 60 * time.Millisecond
	// concealFrames is how many missing frames are filled by fading the last one (60 ms);
	// after that a gap is silence.
	concealFrames = 3
	// ringSamples is the playout ring (256 ms at 8 kHz). A power of two, so indexing by
	// RTP timestamp stays consistent across the 32-bit wrap.
	ringSamples = 2048
	// maxAhead is how far beyond the playout delay a packet may land before the window
	// resyncs: room for a burst after a stall, short of the ring's size.
	maxAhead = 8 * FrameSamples
)

// window is a leg's tap: a small playout ring indexed by RTP timestamp. Packets are
// decoded into it as they arrive (any order); every clock tick takes the next 20 ms out,
// concealing short gaps. It never delays the relay, which forwards before inserting here.
type window struct {
	depth   uint32 // playout delay in samples
	started bool
	playTS  uint32 // RTP timestamp of the next frame to emit
	ring    [ringSamples]int16
	have    [ringSamples]bool
	last    [FrameSamples]int16
	out     [FrameSamples]int16
	hidden  int // consecutive frames concealed
	late    uint64
	resyncs uint64
}

func newWindow(jitter time.Duration) *window {
	if jitter <= 0 {
		jitter = DefaultJitter
	}
	jitter = min(jitter, MaxJitter)
	frames := uint32((jitter + FrameDuration - 1) / FrameDuration)
	return &window{depth: frames * FrameSamples, hidden: concealFrames}
}

// insert decodes a G.711 payload (RTP timestamp ts) into the ring. It reports false when
// the packet came too late for its frame, which was already emitted.
func (w *window) insert(ts uint32, payload []byte, c Codec) bool {
	var pcm [FrameSamples * 3]int16
	n := c.Decode(pcm[:min(len(payload), len(pcm))], payload)
	return w.insertPCM(ts, pcm[:n])
}

// insertPCM places 8 kHz PCM starting at RTP timestamp ts (an 8 kHz clock: one sample per
// unit) into the ring; at most 60 ms of it. It reports false as insert does.
func (w *window) insertPCM(ts uint32, pcm []int16) bool {
	n := uint32(min(len(pcm), FrameSamples*3))
	if !w.started {
		w.resync(ts)
	}
	d := int32(ts - w.playTS)
	switch {
	case d < 0 && -d <= int32(2*w.depth+FrameSamples):
		w.late++
		return false
	case d < 0 || uint32(d)+n > w.depth+maxAhead:
		// Far behind or ahead: the sender's timeline jumped (new stream, a pause without
		// timestamp progress, clock drift). Start over rather than count every packet late.
		w.resync(ts)
	}
	for i := range n {
		j := (ts + i) & (ringSamples - 1)
		w.ring[j], w.have[j] = pcm[i], true
	}
	return true
}

func (w *window) resync(ts uint32) {
	if w.started {
		w.resyncs++
		clear(w.have[:])
	}
	w.started = true
	w.playTS = ts - w.depth
}

// next emits the next 20 ms frame into w.out: the received audio, a fading copy of the
// last frame for the first 60 ms of a gap, then silence.
func (w *window) next() []int16 {
	if !w.started {
		clear(w.out[:])
		return w.out[:]
	}
	got := 0
	for i := range uint32(FrameSamples) {
		j := (w.playTS + i) & (ringSamples - 1)
		if w.have[j] {
			w.out[i] = w.ring[j]
			w.have[j] = false
			got++
		} else {
			w.out[i] = 0
		}
	}
	w.playTS += FrameSamples
	if got > 0 {
		w.hidden = 0
		w.last = w.out
		return w.out[:]
	}
	if w.hidden < concealFrames {
		w.hidden++
		// Linear fade over the concealment: 3/4, 2/4, 1/4 of the last frame.
		num, den := int32(concealFrames+1-w.hidden), int32(concealFrames+1)
		for i, s := range w.last {
			w.out[i] = int16(int32(s) * num / den)
		}
	}
	return w.out[:]
}
