package workorder

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// clauseBreak splits what was said into clauses.
var clauseBreak = regexp.MustCompile(`[，,。.！!？?；;、\s]+`)

// fillerStart are words a clause starts with that carry nothing (hesitations, openers).
var fillerStart = regexp.MustCompile(`^(?:喂|你好|您好|嗯+|啊+|呃+|哦+|那个|就是|然后|我想|我要|我是想|反映一下|反映个事|反映|投诉一下|投诉|是这样的?|是这样子)+`)

// emptyClause are clauses that are only courtesy or assent.
var emptyClause = regexp.MustCompile(`^(?:对|是|是的|好|好的|谢谢|谢谢你|谢谢您|再见|没有了|没了|嗯|啊|喂|行|可以|麻烦了|麻烦你了|不客气)*$`)

// wantWords mark the clause that says what the caller wants.
var wantWords = []string{"希望", "要求", "请你们", "请", "麻烦", "能不能", "能否", "可不可以", "尽快", "赶紧", "帮忙", "帮我", "派人", "过来看", "处理一下", "解决"}

// maxSummaryRunes bounds a summary: the order's form field, and a reader's patience.
const maxSummaryRunes = 150

// Extractive writes the summary from the caller's own clauses in the hotline's style,
// 市民来电反映：<where>，<what>。诉求：<want>。 Nothing in it was not said, but the place
// (which the caller said too) and the urgency mark.
func Extractive(text []string, f Fields) string {
	var what, want []string
	for _, u := range text {
		for _, c := range clauseBreak.Split(u, -1) {
			c = fillerStart.ReplaceAllString(strings.TrimSpace(c), "")
			if utf8.RuneCountInString(c) < 2 || emptyClause.MatchString(c) || f.CallbackNumber != "" && strings.Contains(Digits(c), f.CallbackNumber) {
				continue
			}
			if hasAny(c, wantWords) {
				want = appendNew(want, c)
			} else {
				what = appendNew(what, c)
			}
		}
	}
	if len(what) == 0 && len(want) == 0 {
		return "" // nothing said yet that a summary could hold
	}
	if len(what) > 3 {
		what = what[:3]
	}
	if len(want) > 2 {
		want = want[len(want)-2:] // the last request is the one the call ended on
	}
	var b strings.Builder
	if f.Urgent {
		b.WriteString("【紧急】")
	}
	b.WriteString("市民来电反映：")
	where := f.Address
	if where == "" {
		where = f.Place
	}
	if where != "" && !strings.Contains(strings.Join(what, ""), where) {
		b.WriteString(where + "，")
	}
	b.WriteString(strings.Join(what, "，"))
	b.WriteString("。")
	if len(want) > 0 {
		b.WriteString("诉求：" + strings.Join(want, "，") + "。")
	}
	return truncate(b.String(), maxSummaryRunes)
}

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// appendNew appends c unless it repeats (or is part of) a clause already there, as callers
// repeat themselves.
func appendNew(cs []string, c string) []string {
	for _, x := range cs {
		if strings.Contains(x, c) {
			return cs
		}
	}
	return append(cs, c)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
