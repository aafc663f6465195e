package webrtcseat

import (
	"crypto/rand"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/pion/rtp"

	"lianxin/media"
)

// rtpOut sends RTP to the flow's leg: one SSRC, its own sequence and timestamps.
type rtpOut struct {
	mu    sync.Mutex
	conn  *net.UDPConn
	dest  netip.AddrPort
	codec media.Codec
	h     rtp.Header
	buf   []byte
	enc   []byte
}

func newRTPOut(conn *net.UDPConn, dest netip.AddrPort, codec media.Codec) *rtpOut {
	var b [4]byte
	_, _ = rand.Read(b[:])
	ssrc := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return &rtpOut{conn: conn, dest: dest, codec: codec, buf: make([]byte, 1500), enc: make([]byte, 1500),
		h: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: uint16(b[0]) << 8, Timestamp: ssrc / 2}}
}

// audio encodes pcm in the hop's law and sends it as one packet.
func (o *rtpOut) audio(pcm []int16) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.codec.Encode(o.enc, pcm)
	o.h.PayloadType = o.codec.PayloadType
	o.h.Marker = false
	o.sendLocked(o.enc[:n])
	o.h.Timestamp += uint32(len(pcm))
}

// eventStart is the timestamp a new event starts at: now in the audio's timeline.
func (o *rtpOut) eventStart() uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.h.Timestamp
}

func (o *rtpOut) event(code uint8, ts uint32, dur uint16, end, marker bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ev := media.AppendDTMF(o.enc[:0], media.DTMFEvent{Event: code, End: end, Volume: 10, Duration: dur})
	saved := o.h.Timestamp
	o.h.PayloadType, o.h.Marker, o.h.Timestamp = dtmfPayloadType, marker, ts
	o.sendLocked(ev)
	o.h.Timestamp = saved
}

func (o *rtpOut) sendLocked(payload []byte) {
	o.h.SequenceNumber++
	n, err := o.h.MarshalTo(o.buf)
	if err != nil {
		return
	}
	n += copy(o.buf[n:], payload)
	_, _ = o.conn.WriteToUDPAddrPort(o.buf[:n], o.dest)
}

// frameQueue holds a few PCM frames between a producer and a consumer on different
// clocks; when full it drops the oldest, so delay stays bounded.
type frameQueue struct {
	mu     sync.Mutex
	frames [][]int16
	max    int
}

func newFrameQueue(max int) *frameQueue { return &frameQueue{max: max} }

func (q *frameQueue) push(f []int16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) >= q.max {
		q.frames = q.frames[1:]
	}
	q.frames = append(q.frames, slices.Clone(f))
}

func (q *frameQueue) pop() ([]int16, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 {
		return nil, false
	}
	f := q.frames[0]
	q.frames = q.frames[1:]
	return f, true
}

// mixInto adds the next queued frame to dst, saturating.
func (q *frameQueue) mixInto(dst []int16) {
	f, ok := q.pop()
	if !ok {
		return
	}
	mix(dst, f)
}

func mix(dst, src []int16) {
	for i := range min(len(dst), len(src)) {
		dst[i] = clip(int32(dst[i]) + int32(src[i]))
	}
}

func clip(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}
