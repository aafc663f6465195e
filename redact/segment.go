package redact

// maxNumberDigits bounds a candidate's digits: 0086 and a mobile is 15, a card 19, and a
// group said twice by mistake adds a few.
const maxNumberDigits = 24

// seg is a candidate number: digits [a, b) of a chain, which are cut points ia and ib.
type seg struct {
	a, b   int
	kind   Kind
	ia, ib int
}

// score orders partitions of a chain: the most digits explained first, then fewer numbers.
// A digit is explained inside a number, or inside a group that is a public service number
// ("打了12345，…"). Numbers whose check is stronger earn a little more, so that where a
// mobile and a landline would each take most of the same digits, the mobile wins.
type score struct{ covered, numbers int }

// weight is what a number of kind k, n digits long, adds to a partition's score.
func weight(k Kind, n int) int {
	switch k {
	case IDCard:
		return 4*n + 3
	case BankCard:
		return 4*n + 2
	case Mobile:
		// A trunk or country prefix (0, 86, 0086) counts half: taking a stray 0 from the
		// number before must not outweigh that number's own digits.
		return 4*11 + 1 + 2*(n-11)
	}
	return 4 * n
}

// serviceNumber says whether d is a public number callers mention (hotlines, emergency,
// complaint lines): said between personal numbers, it is not part of them.
func serviceNumber(d string) bool {
	switch d {
	case "110", "119", "120", "122", "114":
		return true
	}
	return hotline(d)
}

// hotline says whether d is one of the five-digit government hotlines, which, unlike 110 or
// 120, are never a group of someone's number.
func hotline(d string) bool {
	switch d {
	case "12345", "12315", "12369", "12348", "12319", "12358", "12366", "96345":
		return true
	}
	return false
}

func (s score) better(o score) bool {
	return s.covered > o.covered || s.covered == o.covered && s.numbers < o.numbers
}

// find splits the chain, at its cut points, into the personal numbers that cover the most of
// its digits. c is the cue of the words before the chain; it applies to a number that starts
// the chain (after the first number, whatever was said before no longer describes the next).
// guess allows the guesses made when no number passes its check: a repeat dropped, or a
// length near that of the kind the cue names.
func (ch chain) find(c cue, guess bool) []Span {
	var pos []int // the cut points, as digit indexes
	for i, ok := range ch.cut {
		if ok {
			pos = append(pos, i)
		}
	}
	best := make([]score, len(pos))
	from := make([]seg, len(pos)) // how best[i] was reached; kind "" is a skipped group
	for j := 1; j < len(pos); j++ {
		best[j], from[j] = best[j-1], seg{a: j - 1, b: j}
		// Half the weight of a number's digits: a service number explains itself when it
		// stands alone, but never beats a number that holds it ("…3393 267 114" is a card).
		if d := ch.digits[pos[j-1]:pos[j]]; serviceNumber(d) {
			best[j].covered += 2 * len(d)
		}
		if ch.unitEnd && j == len(pos)-1 {
			continue
		}
		for i := j - 1; i >= 0; i-- {
			n := pos[j] - pos[i]
			if n > maxNumberDigits {
				break
			}
			if n < 7 {
				continue
			}
			k := ch.classify(pos, i, j, c)
			if k == "" {
				continue
			}
			s := score{best[i].covered + weight(k, n), best[i].numbers + 1}
			if s.better(best[j]) {
				best[j], from[j] = s, seg{a: i, b: j, kind: k}
			}
		}
	}
	var segs []seg
	for j := len(pos) - 1; j > 0; j = from[j].a {
		if f := from[j]; f.kind != "" {
			segs = append(segs, seg{a: pos[f.a], b: pos[f.b], kind: f.kind, ia: f.a, ib: f.b})
		}
	}
	if len(segs) == 0 && guess && c != cueOther && !ch.unitEnd && !ch.holdsDate(0, len(ch.toks)) {
		var k Kind
		if !ch.holdsService(pos, 0, len(pos)-1) {
			k = destutter(ch.digits, c)
		}
		if k == "" {
			k = cuedKind(ch.digits, c)
		}
		if k != "" {
			segs = append(segs, seg{a: 0, b: len(ch.toks), kind: k, ia: 0, ib: len(pos) - 1})
		}
	}
	spans := make([]Span, len(segs))
	for i := range segs {
		s := segs[len(segs)-1-i] // found backwards
		spans[i] = Span{Kind: s.kind, Start: ch.toks[s.a].start, End: ch.toks[s.b-1].end}
	}
	ch.extendRepeats(pos, segs, spans)
	return spans
}

// classify names the kind of the digits between cut points pos[i] and pos[j], or "". A group
// said twice in a row ("幺三八，幺三八，零五八零…") is read once.
func (ch chain) classify(pos []int, i, j int, c cue) Kind {
	atStart := i == 0
	if atStart && c == cueOther {
		return ""
	}
	d := ch.digits[pos[i]:pos[j]]
	if k := kindOf(d, c, atStart); k != "" {
		if (k == Mobile || k == Landline) && ch.holdsService(pos, i, j) {
			return "" // "一六四，12315，120": a room and two hotlines, not a mobile
		}
		if ch.holdsDate(pos[i], pos[j]) && (k != IDCard || ch.holdsDate(pos[i], pos[i]+6) || ch.holdsDate(pos[i]+14, pos[j])) {
			return "" // a written date is only ever an ID's birth date
		}
		return k
	}
	if ch.holdsDate(pos[i], pos[j]) {
		return ""
	}
	for g := i; g+2 <= j; g++ {
		a, m, b := pos[g], pos[g+1], pos[g+2]
		if m-a >= 2 && m-a == b-m && ch.digits[a:m] == ch.digits[m:b] {
			once := ch.digits[pos[i]:a] + ch.digits[m:pos[j]]
			if k := kindOf(once, c, atStart); k != "" {
				return k
			}
		}
	}
	return ""
}

// holdsDate says whether a written date's digits lie in digits [a, b).
func (ch chain) holdsDate(a, b int) bool {
	for _, t := range ch.toks[a:b] {
		if t.date {
			return true
		}
	}
	return false
}

// holdsService says whether one of the groups between cut points pos[i] and pos[j] is a
// hotline: a number without a check digit is not made of a room number and 12315.
func (ch chain) holdsService(pos []int, i, j int) bool {
	for g := i; g < j; g++ {
		if hotline(ch.digits[pos[g]:pos[g+1]]) {
			return true
		}
	}
	return false
}

// kindOf names the kind of a complete digit string, or "". A local landline number (no area
// code) is one only after words that say it is a phone number.
func kindOf(d string, c cue, atStart bool) Kind {
	switch {
	case validID(d):
		if validBank(d) && !plausibleBirth(d) {
			return BankCard
		}
		return IDCard
	case validMobile(d):
		return Mobile
	case validLandline(d):
		return Landline
	case validBank(d):
		return BankCard
	case atStart && (c == cuePhone || c == cueLandline) && validLocal(d):
		return Landline
	}
	return ""
}

// destutter names a chain that holds one number with one stretch of 1–4 digits said twice in
// a row and no pause to cut at ("幺三八幺三八零五八零…", "幺三三八…"): the number once the
// repeat is dropped must pass its kind's check, and, unless words name the kind, be a mobile
// and the repeat at least three digits.
func destutter(d string, c cue) Kind {
	if len(d) < 9 || len(d) > maxNumberDigits {
		return ""
	}
	shortest := 1
	if c == cueNone {
		shortest = 3 // without a cue only a whole group said twice: "幺三八幺三八…"
	}
	for n := 4; n >= shortest; n-- {
		for a := 0; a+2*n <= len(d); a++ {
			if d[a:a+n] != d[a+n:a+2*n] {
				continue
			}
			// Without words saying what it is, only a mobile's fixed shape is trusted: a
			// card's or ID's check passes for one in ten strings with a digit dropped.
			if k := kindOf(d[:a]+d[a+n:], c, true); k == Mobile || k != "" && c != cueNone {
				return k
			}
		}
	}
	return ""
}

// cuedKind names a chain that no check accepted but whose length is near that of the kind
// the words before it name: the recogniser dropped, added or misheard a digit, and the caller
// still said a personal number.
func cuedKind(d string, c cue) Kind {
	n := len(d)
	xs := 0
	for i := 0; i < n; i++ {
		if d[i] == 'X' {
			xs++
		}
	}
	if xs > 1 || xs == 1 && (c != cueID || d[n-1] != 'X') {
		return ""
	}
	switch c {
	case cueID:
		if n >= 15 && n <= 19 {
			return IDCard
		}
	case cueBank:
		if n >= 12 && n <= 21 {
			return BankCard
		}
	case cueLandline:
		if n >= 7 && n <= 13 {
			return Landline
		}
	case cuePhone:
		switch {
		case d[0] == '1' && n >= 10 && n <= 13:
			return Mobile
		case d[0] == '0' && n >= 10 && n <= 13:
			return Landline
		}
	}
	return ""
}

// extendRepeats widens spans over a group said just before a number as its own start
// ("幺三八，幺三八零五八零…") or just after it as its own end ("…幺二三四，幺二三四"), so the
// repeated digits are masked too. segs and spans are in the same order (segs backwards).
func (ch chain) extendRepeats(pos []int, segs []seg, spans []Span) {
	for i := range spans {
		s := segs[len(segs)-1-i]
		lo, hi := 0, len(ch.toks)
		if i > 0 {
			lo = segs[len(segs)-i].b
		}
		if i+1 < len(spans) {
			hi = segs[len(segs)-2-i].a
		}
		// Only cut points less than the number's length away can start or end a repeat, so
		// a long chain of numbers costs no more than a short one.
		n := s.b - s.a
		for k := s.ia - 1; k >= 0 && pos[k] >= lo && s.a-pos[k] < n; k-- {
			if p := pos[k]; s.a-p >= 2 && ch.digits[p:s.a] == ch.digits[s.a:s.a+s.a-p] {
				spans[i].Start = ch.toks[p].start // the furthest match wins
			}
		}
		for k := s.ib + 1; k < len(pos) && pos[k] <= hi && pos[k]-s.b <= n; k++ {
			if p := pos[k]; p-s.b >= 3 && ch.digits[s.b:p] == ch.digits[s.b-(p-s.b):s.b] {
				spans[i].End = ch.toks[p-1].end
			}
		}
	}
}
