// Package redact finds personal numbers in text and masks them: resident ID card numbers
// (18 characters, GB 11643 check character), mainland mobile numbers, landlines with their
// area code and payment card numbers (Luhn). It reads them as people write them and as an ASR
// transcript of a caller says them: digits, full-width digits, Chinese numerals read digit by
// digit (幺 for 1, 两 for 2, 叉 for X, 要 where the recogniser misheard 幺), grouped with
// spaces, dashes or commas, and with hesitations (嗯, 啊, 那个) between the groups.
//
// Ordinary numbers stay: a candidate must pass its kind's structure and check (an ID's check
// character, a card's Luhn digit, a mobile's 1[3-9] prefix, a landline's area code), words
// before a number ("工单号", "订单", "邮编") veto it, and numbers spoken with units or place
// values (二〇二六年, 三千五百块, 1502室, 12路) are never read as digit strings. Where the
// words before it say what the number is ("身份证号", "手机号"), a number whose length is
// only near its kind's (a digit dropped or doubled by the recogniser) is masked as well.
//
// Offsets are in runes (Unicode code points) of the input. The package is a leaf: it imports
// no other project package and holds no state.
package redact

import "strings"

// Kind names what a span holds.
type Kind string

// The kinds of personal number.
const (
	IDCard   Kind = "id_card"
	Mobile   Kind = "mobile"
	Landline Kind = "landline"
	BankCard Kind = "bank_card"
)

// Span is one personal number in runes [Start, End) of the input. It covers every digit of
// the number and what was said between them (嗯, commas), so masking it leaves none behind.
type Span struct {
	Kind  Kind `json:"kind"`
	Start int  `json:"start"`
	End   int  `json:"end"`
}

// MaskRune replaces every rune of a span in Redact's output. One rune for one keeps the
// redacted text the same length as the original, so spans index both.
const MaskRune = '*'

// Redact returns text with every rune of every personal number replaced by MaskRune, and the
// spans it masked, in order. Text without personal numbers comes back unchanged (the same
// string, even when it is not valid UTF-8).
func Redact(text string) (string, []Span) {
	spans := Find(text)
	return Mask(text, spans), spans
}

// Mask replaces the runes of spans (in rune offsets of text, sorted, not overlapping) with
// MaskRune. Spans outside the text are clipped.
func Mask(text string, spans []Span) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	i, k := 0, 0
	for _, r := range text {
		for k < len(spans) && spans[k].End <= i {
			k++
		}
		if k < len(spans) && spans[k].Start <= i {
			b.WriteRune(MaskRune)
		} else {
			b.WriteRune(r)
		}
		i++
	}
	return b.String()
}

// Find returns the personal numbers in text, in order, not overlapping.
func Find(text string) []Span {
	if !hasDigitRune(text) {
		return nil
	}
	toks, offs := tokenize(text)
	chs := chains(toks)
	var spans []Span
	floor := 0
	for i := 0; i < len(chs); i++ {
		ch := chs[i]
		c := cueBefore(text, offs, floor, ch.start())
		found := ch.find(c, true)
		if len(found) == 0 && i+1 < len(chs) {
			next := chs[i+1]
			if m, ok := ch.interrupted(next, c, cueBefore(text, offs, ch.end(), next.start())); ok {
				found, ch = []Span{m}, next
				i++
			}
		}
		spans = append(spans, found...)
		// A chain of one or two digits inside words ("后四位", "第一") does not hide the
		// words before it from the next number.
		if len(found) > 0 || len(ch.digits) > 2 {
			floor = ch.end()
		}
	}
	return spans
}

func (ch chain) start() int { return ch.toks[0].start }
func (ch chain) end() int   { return ch.toks[len(ch.toks)-1].end }

// maxInterruption is the most runes of words that may interrupt one number
// ("幺三八，我看一下啊，零五八零幺二三四").
const maxInterruption = 10

// interrupted reads ch and the next chain as one number broken by a few words, when neither
// holds a number alone (or ch is an area code: "区号0580，号码2601234") and together they pass
// a check (no guessing across words). c is the cue before ch, nc the one before next.
func (ch chain) interrupted(next chain, c, nc cue) (Span, bool) {
	if ch.unitEnd || nc == cueOther || next.start()-ch.end() > maxInterruption || len(ch.digits) < 3 ||
		ch.holdsDate(0, len(ch.toks)) || next.holdsDate(0, len(next.toks)) {
		return Span{}, false
	}
	areaCode := (len(ch.digits) == 3 || len(ch.digits) == 4) && ch.digits[0] == '0'
	if !areaCode && len(next.find(nc, true)) > 0 {
		return Span{}, false
	}
	both := chain{
		toks:    append(append([]token(nil), ch.toks...), next.toks...),
		digits:  ch.digits + next.digits,
		cut:     append(append([]bool(nil), ch.cut[:len(ch.toks)]...), next.cut...),
		unitEnd: next.unitEnd,
	}
	found := both.find(c, false)
	if len(found) != 1 || found[0].Start >= next.start() || found[0].End <= ch.end() {
		return Span{}, false
	}
	return found[0], true
}

// hasDigitRune is a fast path: most utterances hold no digit or numeral at all.
func hasDigitRune(text string) bool {
	for _, r := range text {
		if _, _, _, ok := digitOf(r); ok {
			return true
		}
	}
	return false
}

// maxGapRunes is the most non-digit runes (all of them gap tokens) that may sit between two
// groups of one number: "，嗯，嗯，那个，" is eight.
const maxGapRunes = 8

// chain is a run of digit tokens that may hold one or more numbers: only gaps lie between them.
type chain struct {
	toks   []token
	digits string // toks' digits
	// cut[i] says a number may begin or end before toks[i] (cut[len(toks)] is true): after a
	// pause, at a weak digit, where digits turn into numerals or at an X.
	cut []bool
	// unitEnd says a unit follows the last digit ("二零二六年"): no number may end there.
	unitEnd bool
}

// chains groups the digit tokens of toks into chains.
func chains(toks []token) []chain {
	var out []chain
	var cur []token
	var cut []bool
	flush := func(unitEnd bool) {
		if len(cur) > 0 {
			var d strings.Builder
			for _, t := range cur {
				d.WriteByte(t.digit)
			}
			out = append(out, chain{toks: cur, digits: d.String(), cut: append(cut, true), unitEnd: unitEnd})
		}
		cur, cut = nil, nil
	}
	gap := 0
	for _, t := range toks {
		switch t.kind {
		case tokBreak:
			flush(t.unit && gap == 0)
		case tokGap:
			gap += t.end - t.start
		case tokDigit:
			if len(cur) > 0 && gap > maxGapRunes {
				flush(false)
			}
			if len(cur) == 0 {
				cut = append(cut, true)
			} else {
				p := cur[len(cur)-1]
				c := gap > 0 || p.weak || t.weak || p.ascii != t.ascii || p.digit == 'X'
				if t.digit == 'X' {
					c = gap > 0 // an X said right after digits ends them: they are one ID
				}
				cut = append(cut, c)
			}
			cur = append(cur, t)
		}
		if t.kind != tokGap {
			gap = 0
		}
	}
	flush(false)
	return out
}
