package media

import (
	"time"

	"lianxin/media/g722"
)

// maxPayload is the largest audio payload a leg receives or sends (an Ethernet MTU's RTP).
const maxPayload = 1500 - 12

// inAudio is one received audio packet as the relay sees it: the payload in the sender's
// codec and, when the leg decoded it (a G.722 sender), its PCM at 8 and 16 kHz.
type inAudio struct {
	codec        Codec
	payload      []byte
	narrow, wide []int16
}

// rxCodec is a leg's receive-side decoding beyond G.711's table: G.722's decoder, whose
// state must see every packet in order, and the half-band conversions that give the 8 kHz
// the taps and G.711 peers take, or the 16 kHz of a wideband tap on a G.711 leg. A leg
// that needs none of it has none (nil), so G.711 calls pay nothing for it.
type rxCodec struct {
	dec    *g722.Decoder // nil while the leg is not G.722
	down   decimator
	up     interpolator
	narrow [maxPayload]int16
	wide   [2 * maxPayload]int16

	tap    FrameWriter // the wideband tap; nil when none
	tapPos int64       // samples given to tap, for the frames' offsets
}

// setCodec readies the decoder for c: a fresh G.722 state for a G.722 stream (the peer's
// encoder starts afresh too), none otherwise.
func (rx *rxCodec) setCodec(c Codec) {
	if !c.isG722() {
		rx.dec = nil
		return
	}
	if rx.dec == nil {
		rx.dec = g722.NewDecoder()
	} else {
		rx.dec.Reset()
	}
}

// decode returns payload's PCM at 8 and 16 kHz: always for G.722, for G.711 only while
// a wideband tap wants it (nil, nil otherwise: the window decodes G.711 itself).
func (rx *rxCodec) decode(c Codec, payload []byte) (narrow, wide []int16) {
	payload = payload[:min(len(payload), maxPayload)]
	switch {
	case rx.dec != nil && c.isG722():
		n := rx.dec.Decode(rx.wide[:], payload)
		wide = rx.wide[:n]
		narrow = rx.narrow[:rx.down.process(rx.narrow[:], wide)]
	case rx.tap != nil:
		narrow = rx.narrow[:c.Decode(rx.narrow[:], payload)]
		wide = rx.wide[:rx.up.process(rx.wide[:], narrow)]
	}
	return narrow, wide
}

// push hands the wideband tap the 16 kHz PCM of one packet.
func (rx *rxCodec) push(wide []int16) {
	if rx.tap == nil || len(wide) == 0 {
		return
	}
	off := time.Duration(rx.tapPos) * time.Second / WideRate
	rx.tapPos += int64(len(wide))
	_ = rx.tap.WriteFrame(Frame{Samples: wide, Rate: WideRate, Offset: off})
}

// setCodec readies the receive side for codec: G.722 needs its decoder, a change of
// codec restarts it.
func (l *Leg) setCodec(codec Codec) {
	if sameFormat(codec, l.codec) && l.haveRemote {
		return
	}
	if l.rx == nil && codec.isG722() {
		l.rx = &rxCodec{}
	}
	if l.rx != nil {
		l.rx.setCodec(codec)
	}
}

// TapWideband makes the leg push what its peer says at 16 kHz to w as packets arrive (nil
// stops): a G.722 peer as decoded, a G.711 peer interpolated, so the stream keeps one rate
// when a re-INVITE changes the codec. It is the recogniser's feed, apart from the bridge's
// 8 kHz taps: frames come in arrival order without reordering or concealment, lent as
// everywhere, with Offset counted from the first one. w is called on the leg's reader
// goroutine and must not block (a Fanout never does).
func (l *Leg) TapWideband(w FrameWriter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rx == nil {
		if w == nil {
			return
		}
		l.rx = &rxCodec{}
		l.rx.setCodec(l.codec)
	}
	l.rx.tap = w
}

// Codec is the leg's current codec (as the last SetRemote set it).
func (l *Leg) Codec() Codec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.codec
}

// txCodec is an out stream's encoding toward a G.722 peer: G.722's encoder (its state
// spans every packet sent, relayed or played) and the interpolation of 8 kHz sources.
type txCodec struct {
	enc    *g722.Encoder
	up     interpolator
	narrow [maxPayload]int16
	wide   [2 * maxPayload]int16
}

func newTxCodec() *txCodec { return &txCodec{enc: g722.NewEncoder()} }

// encodeNarrow codes 8 kHz PCM into dst as G.722 (one byte per input sample).
func (tx *txCodec) encodeNarrow(dst []byte, pcm []int16) int {
	n := tx.up.process(tx.wide[:], pcm[:min(len(pcm), maxPayload)])
	return tx.enc.Encode(dst, tx.wide[:n])
}

// convert writes in's audio into dst in codec to (a different codec than the sender's)
// and returns its length: G.711 from G.722's 8 kHz decoding, G.722 from its 16 kHz one or
// from G.711 interpolated.
func (o *outStream) convert(dst []byte, in *inAudio) int {
	to := o.codec
	if !to.isG722() {
		if in.narrow != nil {
			return to.Encode(dst, in.narrow)
		}
		copy(dst, in.payload)
		transcode(dst[:len(in.payload)], in.codec.law(), to.law())
		return len(in.payload)
	}
	if o.tx == nil {
		o.tx = newTxCodec()
	}
	if in.wide != nil && in.codec.isG722() {
		return o.tx.enc.Encode(dst, in.wide)
	}
	narrow := in.narrow
	if narrow == nil {
		narrow = o.tx.narrow[:in.codec.Decode(o.tx.narrow[:], in.payload)]
	}
	return o.tx.encodeNarrow(dst, narrow)
}
