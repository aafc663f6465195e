package g722

// Encoder is one direction's G.722 encoder state. The zero value is not ready: use
// NewEncoder.
type Encoder struct {
	x         [24]int32 // transmit QMF delay line
	low, high band
}

// NewEncoder returns an encoder in the Recommendation's reset state.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.Reset()
	return e
}

// Reset returns the encoder to its initial state (a new stream).
func (e *Encoder) Reset() {
	*e = Encoder{}
	e.low.det, e.high.det = 32, 8
}

// Encode codes 16 kHz PCM into dst, one byte per two samples, and returns the bytes
// written: min(len(pcm)/2, len(dst)). An odd last sample is left out.
func (e *Encoder) Encode(dst []byte, pcm []int16) int {
	n := min(len(pcm)/2, len(dst))
	for i := range n {
		push(&e.x, int32(pcm[2*i]), int32(pcm[2*i+1]))
		// transmit QMF: the sum and difference of the two polyphase branches are the
		// lower and higher sub-band signals at 8 kHz
		even, odd := qmfSums(&e.x)
		xl, xh := (odd+even)>>14, (odd-even)>>14
		il := e.low.quantise(xl)
		ih := e.high.quantiseHigh(xh)
		e.low.adaptLow(il)
		e.high.adaptHigh(ih)
		dst[i] = byte(ih<<6 | il)
	}
	return n
}

// quantise is SUBTL and QUANTL: the lower sub-band's 6-bit code of xl.
func (bd *band) quantise(xl int32) int32 {
	el := sat16(xl - bd.s)
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	i := int32(1)
	for ; i < 30; i++ {
		if wd < (q6[i]*bd.det)>>12 {
			break
		}
	}
	if el < 0 {
		return iln[i]
	}
	return ilp[i]
}

// quantiseHigh is SUBTH and QUANTH: the higher sub-band's 2-bit code of xh.
func (bd *band) quantiseHigh(xh int32) int32 {
	eh := sat16(xh - bd.s)
	wd := eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := int32(1)
	if wd >= (564*bd.det)>>12 {
		mih = 2
	}
	if eh < 0 {
		return ihn[mih]
	}
	return ihp[mih]
}
