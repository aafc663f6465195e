package redact

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// gen makes valid numbers and says them the ways callers and recognisers do. The seed is
// fixed so a failure names a line that fails again.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 1))} }

func (g gen) digits(n int, first string) string {
	var b strings.Builder
	b.WriteString(first)
	for b.Len() < n {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// id is a valid 18-character ID number with a real-looking birth date.
func (g gen) id() string {
	first := fmt.Sprintf("%d%s%04d%02d%02d%03d", 1+g.r.IntN(8), g.digits(5, ""),
		1930+g.r.IntN(90), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(1000))
	return first + string(IDCheckChar(first))
}

// card is a Luhn-valid UnionPay number of 16 to 19 digits that is not also an ID number.
func (g gen) card() string {
	for {
		body := g.digits(15+g.r.IntN(4), "62")
		for c := byte('0'); c <= '9'; c++ {
			if d := body + string(c); LuhnValid(d) && !validID(d) {
				return d
			}
		}
	}
}

func (g gen) mobile() string { return g.digits(11, "1"+string(byte('3'+g.r.IntN(7)))) }

func (g gen) landline() string {
	area := []string{"0580", "0571", "0574", "010", "021"}[g.r.IntN(5)]
	n := 8
	if len(area) == 4 && g.r.IntN(2) == 0 {
		n = 7
	}
	return area + g.digits(n, string(byte('2'+g.r.IntN(7))))
}

func (g gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

// say renders d: as written or as numerals (幺, 一 or 要 for 1, 两 for 2, 零, 〇 or 洞 for 0,
// 叉 or X), in one breath or in groups with pauses, fillers or dashes between them.
func (g gen) say(d string) string {
	var b strings.Builder
	spoken := g.r.IntN(3)   // 0: digits, 1: numerals, 2: mixed by group
	grouped := g.r.IntN(3)  // 0: one run, else groups of 2–6
	next := 2 + g.r.IntN(5) // where the current group ends
	groupSpoken := spoken == 1 || spoken == 2 && g.r.IntN(2) == 0
	for i := 0; i < len(d); i++ {
		if grouped > 0 && i == next {
			b.WriteString(g.pick(" ", "-", "，", "，嗯，", " 啊 ", "，那个，", "、", " "))
			next += 2 + g.r.IntN(5)
			groupSpoken = spoken == 1 || spoken == 2 && g.r.IntN(2) == 0
		}
		c := d[i]
		switch {
		case !groupSpoken:
			b.WriteByte(c)
		case c == 'X':
			b.WriteString(g.pick("叉", "X", "x"))
		case c == '1':
			b.WriteString(g.pick("幺", "一", "幺", "要")) // 要: the recogniser mishearing 幺
		case c == '2':
			b.WriteString(g.pick("二", "二", "两"))
		case c == '0':
			b.WriteString(g.pick("零", "〇", "零", "洞"))
		default:
			b.WriteString(string([]rune("零一二三四五六七八九")[c-'0']))
		}
	}
	return b.String()
}

// TestGeneratedNumbersFound says valid numbers of every kind, every way, inside sentences a
// caller might say, and expects exactly one span covering exactly the spoken number.
func TestGeneratedNumbersFound(t *testing.T) {
	g := newGen(12345)
	kinds := []struct {
		kind   Kind
		make   func() string
		before []string
	}{
		{IDCard, g.id, []string{"我身份证号是", "证件号码，", "身份证", "他的是", "嗯，"}},
		{BankCard, g.card, []string{"卡号是", "银行卡号码", "我的卡，", "打到这个", ""}},
		{Mobile, g.mobile, []string{"我手机号是", "你打", "电话", "记一下，", "回拨", ""}},
		{Landline, g.landline, []string{"座机是", "打这个", "电话，", "单位的", ""}},
	}
	after := []string{"", "。", "，你记一下", "，对", "就这个", "吧？", "，我住3号楼"}
	for _, k := range kinds {
		for n := 0; n < 400; n++ {
			spoken := g.say(k.make())
			line := g.pick(k.before...) + spoken + g.pick(after...)
			a, b := runeSpan(t, line, spoken)
			require.Equal(t, []Span{{Kind: k.kind, Start: a, End: b}}, Find(line), line)
		}
	}
}

// TestGeneratedNonNumbersStay checks strings one check away from a personal number: an ID
// with a wrong check character, a card failing Luhn, an 11-digit number that no mobile starts
// with. Without words naming them, none is masked.
func TestGeneratedNonNumbersStay(t *testing.T) {
	g := newGen(110)
	wrongID := func() string {
		id := g.id()
		for {
			c := g.pick("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X")
			// A wrong check may still make a valid card number, which is masked as one.
			if d := id[:17] + c; c[0] != id[17] && !validBank(d) {
				return d
			}
		}
	}
	badCard := func() string {
		for {
			d := g.digits(16+g.r.IntN(4), "62")
			if !LuhnValid(d) && !validID(d) {
				return d
			}
		}
	}
	notMobile := func() string { return g.digits(11, g.pick("10", "11", "12", "2", "5", "9")) }
	for _, make := range []func() string{wrongID, badCard, notMobile} {
		for n := 0; n < 400; n++ {
			d := make()
			line := g.pick("编号", "他说", "嗯，", "") + d + g.pick("", "号", "，然后呢")
			require.Empty(t, Find(line), line)
		}
	}
}

// TestSpansWellFormed checks, on generated mixtures of numbers and ordinary words, that spans
// are ordered, inside the text, not overlapping, that masking keeps the length and that every
// number said is masked whole, a word away from the next.
func TestSpansWellFormed(t *testing.T) {
	g := newGen(7)
	numbers := []func() string{g.id, g.card, g.mobile, g.landline}
	for n := 0; n < 300; n++ {
		var b strings.Builder
		var said [][2]int // rune ranges of the numbers in the line
		for k := 0; k < 1+g.r.IntN(6); k++ {
			if g.r.IntN(3) == 0 {
				b.WriteString(g.pick("3号楼", "1502室", "12345", "两千块", "二零二六年", "，嗯，", "我要", " "))
			} else {
				start := utf8.RuneCountInString(b.String())
				b.WriteString(g.say(numbers[g.r.IntN(len(numbers))]()))
				said = append(said, [2]int{start, utf8.RuneCountInString(b.String())})
			}
			b.WriteString(g.pick("。然后", "，还有", "，另外", "，座机是", "，他的"))
		}
		line := b.String()
		masked, spans := Redact(line)
		require.Equal(t, utf8.RuneCountInString(line), utf8.RuneCountInString(masked))
		checkSpans(t, line, spans)
		mr := []rune(masked)
		for _, s := range spans {
			require.Equal(t, strings.Repeat(string(MaskRune), s.End-s.Start), string(mr[s.Start:s.End]), line)
		}
		for _, r := range said {
			require.Equal(t, strings.Repeat(string(MaskRune), r[1]-r[0]), string(mr[r[0]:r[1]]), "every number masked in %q", line)
		}
	}
}

// checkSpans holds for any input: spans in order, in range, not empty, not overlapping.
func checkSpans(t *testing.T, text string, spans []Span) {
	t.Helper()
	n := utf8.RuneCountInString(text)
	prev := 0
	for _, s := range spans {
		require.True(t, s.Start >= prev && s.Start < s.End && s.End <= n, "%v in %q", spans, text)
		require.Contains(t, []Kind{IDCard, Mobile, Landline, BankCard}, s.Kind)
		prev = s.End
	}
}

// cn says the digits of d as numerals, digit by digit, as callers say years and rooms.
func cn(d string) string {
	var b strings.Builder
	for i := 0; i < len(d); i++ {
		b.WriteString(string([]rune("零一二三四五六七八九")[d[i]-'0']))
	}
	return b.String()
}

// TestGeneratedOrdinaryStay strings ordinary numbers together the way a complaint does:
// dates, times, money, addresses, routes, postal codes, hotlines and work-order numbers.
// None is masked.
func TestGeneratedOrdinaryStay(t *testing.T) {
	g := newGen(2026)
	n := func(lo, hi int) string { return fmt.Sprint(lo + g.r.IntN(hi-lo+1)) }
	items := []func() string{
		func() string { return n(2000, 2026) + "年" + n(1, 12) + "月" + n(1, 31) + "号" },
		func() string { return cn(n(2000, 2026)) + "年" },
		func() string { return fmt.Sprintf("%s-%02d-%02d", n(2000, 2026), 1+g.r.IntN(12), 1+g.r.IntN(28)) },
		func() string { return n(0, 23) + ":" + fmt.Sprintf("%02d", g.r.IntN(60)) },
		func() string { return n(1, 99999) + g.pick("元", "块", "块钱") },
		func() string { return n(1, 40) + "号楼" + n(1, 6) + "单元" + n(101, 3208) + "室" },
		func() string { return cn(n(1, 40)) + "幢" + cn(n(101, 3208)) },
		func() string { return g.pick("", "K", "B") + n(1, 399) + "路" },
		func() string { return "工单号" + g.digits(13, "20") },
		func() string { return "订单号" + g.digits(18+g.r.IntN(2), g.pick("1", "2", "3", "4")) },
		func() string { return "邮编" + g.digits(6, "3") },
		func() string { return g.pick("12345", "110", "119", "120", "12315") },
		func() string { return n(1, 300) + g.pick("个人", "户", "次", "天", "岁") },
		func() string { return "身份证后四位" + g.digits(4, "") },
		func() string { return "手机尾号" + g.digits(4, "1") },
	}
	for k := 0; k < 2000; k++ {
		var b strings.Builder
		for i := 0; i < 1+g.r.IntN(4); i++ {
			b.WriteString(items[g.r.IntN(len(items))]())
			b.WriteString(g.pick("，", "，嗯，", "。", " ", "，还有"))
		}
		line := b.String()
		require.Empty(t, Find(line), line)
	}
}
