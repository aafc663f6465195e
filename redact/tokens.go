package redact

import "strings"

// tokKind is what one stretch of the input is to the detector.
type tokKind uint8

const (
	tokBreak tokKind = iota // ends any number being read: words, units (号, 楼, 元), 十/百
	tokGap                  // may sit between the groups of one number: spaces, dashes, 嗯, 那个
	tokDigit                // one digit, or the X of an ID number
)

// token is one digit or one stretch of gap or break, in runes [start, end) of the input.
type token struct {
	kind  tokKind
	digit byte // '0'…'9' or 'X' for tokDigit
	// weak marks a rune that is a digit only beside other digits: 要/腰/妖 (ASR's spelling of
	// 幺), 两 (两个, 两天) and the radio digits 洞/拐/勾. A number may start or end at a weak
	// digit.
	weak  bool
	ascii bool // written with a digit character rather than spoken as a numeral
	// unit marks a word that counts what comes before it (年, 号, 楼, 元, 路): digits right
	// before it are a date, an address, an amount or a route, not part of a personal number.
	unit  bool
	date  bool // one of the digits of a written date (see markDates)
	start int
	end   int
}

// digitOf classifies one rune as a digit: the value, whether it is weak, whether it is a
// digit character. The numerals are the ones callers read numbers with, digit by digit;
// 十/百/千/万 are not among them, so "三十五号" or "两千块" never read as a number's digits.
func digitOf(r rune) (d byte, weak, ascii, ok bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), false, true, true
	case r >= '０' && r <= '９':
		return byte(r-'０') + '0', false, true, true
	}
	switch r {
	case '零', '〇', '○':
		return '0', false, false, true
	case '一', '幺':
		return '1', false, false, true
	case '二':
		return '2', false, false, true
	case '三':
		return '3', false, false, true
	case '四':
		return '4', false, false, true
	case '五':
		return '5', false, false, true
	case '六':
		return '6', false, false, true
	case '七':
		return '7', false, false, true
	case '八':
		return '8', false, false, true
	case '九':
		return '9', false, false, true
	case '要', '腰', '妖', '夭':
		return '1', true, false, true
	case '两':
		return '2', true, false, true
	case '洞': // the radio way of saying digits: 洞 0, 拐 7, 勾 9
		return '0', true, false, true
	case '拐':
		return '7', true, false, true
	case '勾':
		return '9', true, false, true
	case 'X', 'x', '×', 'Ｘ', 'ｘ', '叉':
		return 'X', false, r == 'X' || r == 'x', true
	}
	return 0, false, false, false
}

// isGapRune says whether r may separate the digit groups of one number: what writers put
// between groups and the hesitations an ASR transcript keeps.
func isGapRune(r rune) bool {
	switch r {
	case ' ', '\t', '\u3000', '\u00a0', '-', '－', '—', '–', '_', ',', '，', '、', '.', '．',
		'。', '·', '/', '(', ')', '（', '）', '+', '＋', '~', '～', '…',
		'杠', '嗯', '啊', '呃', '额', '哦', '噢', '唔', '呀', '哈', '诶', '欸', '哎', '啦', '吧', '呢', '对', '是':
		return true
	}
	return false
}

// multiRune are gap words and spoken letters longer than one rune, longest first where one
// is a prefix of another.
func multiRune(first rune, s string) (n int, kind tokKind) {
	switch first {
	case '那', '这', '就', '艾', '爱', '埃':
	default:
		return 0, tokBreak
	}
	for _, w := range [...]string{"那个", "这个", "就是", "艾克斯", "爱克斯", "埃克斯"} {
		if strings.HasPrefix(s, w) {
			if strings.HasSuffix(w, "克斯") {
				return 3, tokDigit
			}
			return 2, tokGap
		}
	}
	return 0, tokBreak
}

// tokenize splits text into tokens with rune offsets; it also returns the byte offset of
// every rune (and of the end) so keywords can be read without copying.
func tokenize(text string) ([]token, []int) {
	toks := make([]token, 0, len(text)/2)
	offs := make([]int, 0, len(text)/2)
	for i := range text {
		offs = append(offs, i)
	}
	offs = append(offs, len(text))
	n := len(offs) - 1
	for i := 0; i < n; {
		r := runeAt(text, offs, i)
		if d, weak, ascii, ok := digitOf(r); ok && !(r == '一' && i+1 < n && wordAfterYi(runeAt(text, offs, i+1))) {
			toks = append(toks, token{kind: tokDigit, digit: d, weak: weak, ascii: ascii, start: i, end: i + 1})
			i++
			continue
		}
		if isGapRune(r) {
			toks = append(toks, token{kind: tokGap, start: i, end: i + 1})
			i++
			continue
		}
		if w, kind := multiRune(r, text[offs[i]:]); w > 0 && i+w <= n {
			toks = append(toks, token{kind: kind, digit: 'X', start: i, end: i + w})
			i += w
			continue
		}
		next := rune(0)
		if i+1 < n {
			next = runeAt(text, offs, i+1)
		}
		toks = append(toks, token{kind: tokBreak, unit: isUnit(r, next), start: i, end: i + 1})
		i++
	}
	demoteWeak(toks)
	markDates(text, offs, toks)
	return toks, offs
}

// markDates flags the digits of written dates (2026-12-06, 2026/12/6, 2026.12.06): they may
// sit inside a number with a check digit (an ID written with its birth date set apart) but
// never make up a mobile or a landline ("一三七，2000-01-14" is a room and a day).
func markDates(text string, offs []int, toks []token) {
	for i := 0; i < len(toks); i++ {
		end := dateAt(text, offs, toks, i)
		if end == 0 {
			end = timeAt(text, offs, toks, i)
		}
		if end > 0 {
			for x := i; x < end; x++ {
				toks[x].date = true
			}
			i = end - 1
		}
	}
}

// timeAt returns the end of a time written from token i (h:mm or hh:mm), or 0.
func timeAt(text string, offs []int, toks []token, i int) int {
	isDigit := func(j int) bool {
		return j < len(toks) && toks[j].kind == tokDigit && toks[j].ascii && toks[j].digit != 'X'
	}
	if i > 0 && toks[i-1].kind == tokDigit || !isDigit(i) {
		return 0
	}
	j := i + 1
	if isDigit(j) {
		j++
	}
	if j >= len(toks) || !isDigit(j+1) || !isDigit(j+2) || isDigit(j+3) {
		return 0
	}
	if r := runeAt(text, offs, toks[j].start); r != ':' && r != '：' {
		return 0
	}
	return j + 3
}

// dateAt returns the end of a date written from token i (yyyy-m-d with one separator of
// -, / or .), or 0.
func dateAt(text string, offs []int, toks []token, i int) int {
	digits := func(i int) (int, int) {
		j := i
		for j < len(toks) && toks[j].kind == tokDigit && toks[j].ascii && toks[j].digit != 'X' {
			j++
		}
		return j - i, j
	}
	sepAt := func(i int) rune {
		if i < len(toks) && toks[i].kind == tokGap {
			switch r := runeAt(text, offs, toks[i].start); r {
			case '-', '/', '.':
				return r
			}
		}
		return 0
	}
	if i > 0 && toks[i-1].kind == tokDigit {
		return 0
	}
	n, j := digits(i)
	if n != 4 || !(toks[i].digit == '1' && toks[i+1].digit == '9' || toks[i].digit == '2' && toks[i+1].digit == '0') {
		return 0
	}
	sep := sepAt(j)
	if sep == 0 {
		return 0
	}
	m, k := digits(j + 1)
	if m < 1 || m > 2 || sepAt(k) != sep {
		return 0
	}
	d, end := digits(k + 1)
	month, day := atoi(digitString(toks[j+1:k])), atoi(digitString(toks[k+1:end]))
	if d >= 1 && d <= 2 && month >= 1 && month <= 12 && day >= 1 && day <= 31 {
		return end
	}
	return 0
}

// digitString is the digits of toks, which are all digit tokens.
func digitString(toks []token) string {
	b := make([]byte, len(toks))
	for i, t := range toks {
		b[i] = t.digit
	}
	return string(b)
}

func runeAt(text string, offs []int, i int) rune {
	for _, r := range text[offs[i]:offs[i+1]] {
		return r
	}
	return 0
}

// demoteWeak turns a weak digit into a word unless a strong digit is beside it, or only a
// pause away ("…幺二三，两"): "我要" and "两个" are not digits, "要三八" is. Runs of weak
// digits ("两两") count together. A weak digit kept is still a cut point, so a number
// never has to take it.
func demoteWeak(toks []token) {
	reaches := func(i, step int) bool {
		gap, weak := 0, 0
		for j := i + step; j >= 0 && j < len(toks); j += step {
			switch t := toks[j]; {
			case t.kind == tokDigit && !t.weak:
				return true
			case t.kind == tokDigit:
				if weak++; weak > maxNumberDigits { // "两两两…" for a page: bound the look
					return false
				}
			case t.kind == tokGap && gap+t.end-t.start <= maxGapRunes:
				gap += t.end - t.start
			default:
				return false
			}
		}
		return false
	}
	for i := range toks {
		if toks[i].weak && !reaches(i, -1) && !reaches(i, 1) {
			toks[i].kind = tokBreak
		}
	}
}

// isUnit says whether r (followed by next) counts or places the number before it. Where the
// rune also starts a common word after a phone number (号码, 分机, 单位, 平时) it is a unit
// only in the unit's own word.
func isUnit(r, next rune) bool {
	switch r {
	case '号':
		return next != '码'
	case '分':
		return next != '机'
	case '单':
		return next == '元'
	case '平':
		return next == '方' || next == '米'
	case ':', '：': // 10:55 is a time
		return next >= '0' && next <= '9'
	case '年', '月', '日', '位', '楼', '室', '栋', '幢', '层', '路', '元', '块', '岁', '点', '秒',
		'个', '次', '天', '角', '毛', '米', '斤', '十', '百', '千', '万', '亿', '期', '届', '区', '%', '％':
		return true
	}
	return false
}

// wordAfterYi says whether 一 followed by r is a word (一下, 一个, 一样, 一直) rather than the
// digit 1 (一三八): a caller who pauses inside a number says "我看一下".
func wordAfterYi(r rune) bool {
	switch r {
	case '下', '个', '些', '样', '直', '起', '定', '般', '共', '边', '会', '切', '律', '致', '旦', '向', '同', '齐', '身', '口', '天', '次', '遍', '点', '声':
		return true
	}
	return false
}
