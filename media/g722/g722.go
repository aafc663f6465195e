// Package g722 is ITU-T G.722 (7 kHz audio coding within 64 kbit/s): sub-band ADPCM at
// 64 kbit/s (mode 1), 16 kHz PCM16 in, one code byte per pair of samples out.
//
// It is written from the Recommendation's fixed-point description rather than taken from a
// library: the pure-Go ports available are machine translations of spandsp's C, single
// commits without maintenance, and none is faithful to the reference's structure or
// tested against vectors. Each function names the block of the Recommendation it
// implements (QMF, SUBTL, QUANTL, INVQAL, LOGSCL, SCALEL, RECONS, PARREC, UPPOL1/2,
// UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC, and their higher sub-band twins). The arithmetic
// is the reference's, so the output matches other conforming codecs bit for bit (tested
// against ffmpeg's).
//
// RTP (RFC 3551 §4.5.2): payload type 9, "G722/8000" in SDP, although it samples at
// 16 kHz: the timestamp advances 8000 a second, 160 per 20 ms packet of 320 samples
// (160 bytes).
package g722

const (
	// SampleRate is the PCM rate G.722 codes.
	SampleRate = 16000
	// ClockRate is the RTP timestamp rate (RFC 3551's historical 8000).
	ClockRate = 8000
	// PayloadType is G.722's static RTP payload type.
	PayloadType = 9
)

// band is the state of one sub-band's ADPCM coder (the same structure in encoder and
// decoder, which stay in step because both run it on the same quantised values).
type band struct {
	s   int32    // PREDIC: predictor output
	sp  int32    // FILTEP: pole section output
	sz  int32    // FILTEZ: zero section output
	r   [3]int32 // RECONS: reconstructed signal, r[0] newest
	a   [3]int32 // UPPOL1/2: pole coefficients a1, a2 (index 0 unused)
	b   [7]int32 // UPZERO: zero coefficients b1…b6 (index 0 unused)
	d   [7]int32 // DELAYA: quantised difference signal, d[0] newest
	p   [3]int32 // PARREC: partially reconstructed signal
	nb  int32    // LOGSCL/LOGSCH: log scale factor
	det int32    // SCALEL/SCALEH: quantiser scale factor
}

func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// ilb is the inverse-log table of SCALEL and SCALEH.
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// scale is SCALEL (shift 8) and SCALEH (shift 10): the quantiser scale factor from the log
// scale factor.
func (bd *band) scale(shift int32) {
	wd1 := (bd.nb >> 6) & 31
	wd2 := shift - (bd.nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	bd.det = wd3 << 2
}

// logScale is LOGSCL and LOGSCH: the leaky log scale factor moved by the quantiser's
// multiplier w, kept within [0, limit].
func (bd *band) logScale(w, limit int32) {
	nb := (bd.nb*127)>>7 + w
	bd.nb = min(max(nb, 0), limit)
}

// adapt is block 4L/4H, the adaptive predictor, fed the quantised difference d: RECONS,
// PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ and PREDIC in the Recommendation's
// order.
func (bd *band) adapt(d int32) {
	// RECONS and PARREC
	bd.d[0] = d
	bd.r[0] = sat16(bd.s + d)
	bd.p[0] = sat16(bd.sz + d)

	// UPPOL2: second pole coefficient
	sg0, sg1, sg2 := bd.p[0]>>15, bd.p[1]>>15, bd.p[2]>>15
	wd1 := sat16(bd.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767)
	wd3 := wd2 >> 7
	if sg0 == sg2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	wd3 += (bd.a[2] * 32512) >> 15
	ap2 := min(max(wd3, -12288), 12288)

	// UPPOL1: first pole coefficient, bounded by the second
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	ap1 := sat16(wd1 + (bd.a[1]*32640)>>15)
	lim := sat16(15360 - ap2)
	ap1 = min(max(ap1, -lim), lim)

	// UPZERO (each zero coefficient moved by sign agreement of d with its past), DELAYA
	// and FILTEZ in one pass from the oldest tap: b[i] and d[i] are read before they are
	// replaced, and the zero section then sums the new ones
	var step int32
	if d != 0 {
		step = 128
	}
	sgd := d >> 15
	var sz int32
	for i := 6; i > 0; i-- {
		w := -step
		if bd.d[i]>>15 == sgd {
			w = step
		}
		bd.b[i] = sat16(w + (bd.b[i]*32640)>>15)
		bd.d[i] = bd.d[i-1]
		sz += (bd.b[i] * sat16(bd.d[i]+bd.d[i])) >> 15
	}
	bd.sz = sat16(sz)

	// DELAYA for the pole section, then FILTEP
	bd.r[2], bd.r[1] = bd.r[1], bd.r[0]
	bd.p[2], bd.p[1] = bd.p[1], bd.p[0]
	bd.a[1], bd.a[2] = ap1, ap2
	wd1 = (bd.a[1] * sat16(bd.r[1]+bd.r[1])) >> 15
	wd2 = (bd.a[2] * sat16(bd.r[2]+bd.r[2])) >> 15
	bd.sp = sat16(wd1 + wd2)

	// PREDIC
	bd.s = sat16(bd.sp + bd.sz)
}

// Lower sub-band tables: QUANTL's decision levels and codes, the inverse quantisers of
// INVQAL (4 bits) and INVQBL (6 bits), LOGSCL's multipliers.
var (
	q6 = [32]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
		786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	iln = [32]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15,
		14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	ilp = [32]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
		42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	qm4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	qm6 = [64]int32{-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136}
	rl42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
)

// Higher sub-band tables: QUANTH's codes, INVQAH, LOGSCH's multipliers.
var (
	ihn = [3]int32{0, 1, 0}
	ihp = [3]int32{0, 3, 2}
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	rh2 = [4]int32{2, 1, 2, 1}
	wh  = [3]int32{0, -214, 798}
)

// Scale factor limits and shifts of LOGSCL/SCALEL and LOGSCH/SCALEH.
const (
	lowLimit, lowShift   = 18432, 8
	highLimit, highShift = 22528, 10
)

// adaptLow runs INVQAL, LOGSCL, SCALEL and block 4L for the lower sub-band's 6-bit code:
// what encoder and decoder do alike once the code is known.
func (bd *band) adaptLow(il int32) {
	ril := il >> 2
	dlt := (bd.det * qm4[ril]) >> 15 // INVQAL
	bd.logScale(wl[rl42[ril]], lowLimit)
	bd.scale(lowShift)
	bd.adapt(dlt)
}

// adaptHigh runs INVQAH, LOGSCH, SCALEH and block 4H for the higher sub-band's 2-bit code.
func (bd *band) adaptHigh(ih int32) {
	dh := (bd.det * qm2[ih]) >> 15 // INVQAH
	bd.logScale(wh[rh2[ih]], highLimit)
	bd.scale(highShift)
	bd.adapt(dh)
}

// qmf is the 24-tap quadrature mirror filter's coefficients h0…h23, in the order the
// transmit and receive QMF apply them.
var qmf = [24]int32{3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3}

// qmfSums applies the QMF to the last 24 samples of x (oldest first): the even taps on the
// even samples and the odd taps on the odd ones.
func qmfSums(x *[24]int32) (even, odd int32) {
	for i := 0; i < 24; i += 2 {
		even += x[i] * qmf[i]
		odd += x[i+1] * qmf[i+1]
	}
	return even, odd
}

// push shifts two new samples into the QMF delay line.
func push(x *[24]int32, s0, s1 int32) {
	copy(x[:22], x[2:])
	x[22], x[23] = s0, s1
}
