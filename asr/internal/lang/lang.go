// Package lang helps adapters put a line's BCP-47 language into an engine's own form.
package lang

import (
	"strings"
	"unicode"
)

// Base is the lower-cased primary subtag: "zh" for "zh-CN", "" for "".
func Base(tag string) string {
	b, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return b
}

// Lookup finds tag in a per-language setting: the exact tag first (case-insensitive),
// then its primary subtag ("zh-CN" falls back to "zh").
func Lookup(m map[string]string, tag string) (string, bool) {
	if tag == "" || len(m) == 0 {
		return "", false
	}
	for k, v := range m {
		if strings.EqualFold(k, tag) {
			return v, true
		}
	}
	for k, v := range m {
		if strings.EqualFold(k, Base(tag)) {
			return v, true
		}
	}
	return "", false
}

// JoinWords joins words as the language writes them: Chinese and Japanese without spaces
// ("你好 我 要" → "你好我要"), other words with one; runs of white space (a recogniser's
// segments on lines of their own) count as one.
func JoinWords(text string) string {
	ws := strings.Fields(text)
	var b strings.Builder
	for i, w := range ws {
		if i > 0 && !(cjk(lastRune(ws[i-1])) && cjk(firstRune(w))) {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

func cjk(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef) // CJK and full-width punctuation
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	r := []rune(s)
	return r[len(r)-1]
}
