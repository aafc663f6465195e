package g722

// Decoder is one direction's G.722 decoder state. The zero value is not ready: use
// NewDecoder.
type Decoder struct {
	x         [24]int32 // receive QMF delay line
	low, high band
}

// NewDecoder returns a decoder in the Recommendation's reset state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state (a new stream).
func (d *Decoder) Reset() {
	*d = Decoder{}
	d.low.det, d.high.det = 32, 8
}

// Decode decodes G.722 codes into dst as 16 kHz PCM, two samples per byte, and returns
// the samples written: 2*min(len(codes), len(dst)/2).
func (d *Decoder) Decode(dst []int16, codes []byte) int {
	n := min(len(codes), len(dst)/2)
	for i, c := range codes[:n] {
		il, ih := int32(c&0x3f), int32(c>>6)
		// INVQBL, RECONS and LIMIT: the lower sub-band from all six bits of its code
		rl := limit(d.low.s + (d.low.det*qm6[il])>>15)
		// INVQAH, RECONS and LIMIT
		rh := limit(d.high.s + (d.high.det*qm2[ih])>>15)
		d.low.adaptLow(il)
		d.high.adaptHigh(ih)
		// receive QMF: interleave sum and difference, filter, two samples out
		push(&d.x, rl+rh, rl-rh)
		even, odd := qmfSums(&d.x)
		dst[2*i] = int16(sat16(odd >> 11))
		dst[2*i+1] = int16(sat16(even >> 11))
	}
	return 2 * n
}

// limit is LIMIT: the reconstructed sub-band signal kept to 15 bits.
func limit(v int32) int32 { return min(max(v, -16384), 16383) }
