package dispatch

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRunes bounds the text a classification looks at: a whole call's transcript fits, and a
// pathological input costs bounded time.
const maxRunes = 16384

// normalize maps a transcript to the form features and terms are matched on: valid UTF-8,
// half-width, lower-case, every run of non-word characters (punctuation, emoji, symbols) one
// space.
func normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := true
	n := 0
	for _, r := range s {
		if n >= maxRunes {
			break
		}
		n++
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0 // full-width ASCII
		case r == 0x3000:
			r = ' '
		}
		r = unicode.ToLower(r)
		if isHan(r) || r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'') || unicode.IsLetter(r) {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

func isHan(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || unicode.Is(unicode.Han, r)
}

// feature is one n-gram of a text with where it was heard (rune offsets), for evidence.
type feature struct {
	key        string
	start, end int
}

// spokenFillers carry no department: greetings and hesitations every caller says. They are
// blanked out (keeping character positions for evidence) so that no n-gram spans them.
var spokenFillers = [][]rune{[]rune("喂"), []rune("你好"), []rune("您好"), []rune("嗯"), []rune("呃"), []rune("啊"), []rune("那个"), []rune("就是"), []rune("然后")}

func blankFillers(runes []rune) []rune {
	out := append([]rune(nil), runes...)
	for i := range runes {
		for _, f := range spokenFillers {
			if i+len(f) <= len(runes) && string(runes[i:i+len(f)]) == string(f) {
				for k := range f {
					out[i+k] = ' '
				}
			}
		}
	}
	return out
}

// extract returns the n-grams of a normalised text: Chinese character 1–3-grams within each
// run of Han characters, and English word 1–2-grams within each run of words.
func extract(norm string) []feature {
	runes := []rune(norm)
	if len(runes) == 0 {
		return nil
	}
	runes = blankFillers(runes)
	var out []feature
	for i := 0; i < len(runes); {
		switch r := runes[i]; {
		case isHan(r):
			j := i
			for j < len(runes) && isHan(runes[j]) {
				j++
			}
			out = hanGrams(out, runes, i, j)
			i = j
		case r == ' ':
			i++
		default:
			j := i
			for j < len(runes) && runes[j] != ' ' && !isHan(runes[j]) {
				j++
			}
			i = j
		}
	}
	return wordGrams(out, runes)
}

func hanGrams(out []feature, runes []rune, from, to int) []feature {
	for i := from; i < to; i++ {
		for n := 1; n <= 3 && i+n <= to; n++ {
			out = append(out, feature{key: string(runes[i : i+n]), start: i, end: i + n})
		}
	}
	return out
}

// wordGrams adds English unigrams and bigrams; a Han character or a gap of Han text ends a
// bigram run.
func wordGrams(out []feature, runes []rune) []feature {
	prev, prevStart := "", -1
	for i := 0; i < len(runes); {
		r := runes[i]
		if r == ' ' {
			i++
			continue
		}
		if isHan(r) {
			prev = ""
			i++
			continue
		}
		j := i
		for j < len(runes) && runes[j] != ' ' && !isHan(runes[j]) {
			j++
		}
		w := stem(string(runes[i:j]))
		if englishStop(w) {
			i = j
			continue
		}
		if w != "" {
			out = append(out, feature{key: w, start: i, end: j})
			if p := []rune(w); len(p) > 5 {
				// A five-letter prefix joins spellings and derivations: fertiliser and
				// fertilizer, vaccine and vaccination.
				out = append(out, feature{key: string(p[:5]) + "~", start: i, end: j})
			}
			if prev != "" {
				out = append(out, feature{key: prev + " " + w, start: prevStart, end: j})
			}
			prev, prevStart = w, i
		}
		i = j
	}
	return out
}

// englishStop reports the function words that say nothing about a department; dropping
// them lets bigrams join the words that do ("lift stuck" from "the lift is stuck").
func englishStop(w string) bool {
	switch w {
	case "a", "an", "the", "i", "i'm", "my", "me", "we", "our", "u", "you", "your", "it", "it'", "is", "are", "was", "were", "be", "been",
		"to", "of", "in", "into", "its", "on", "at", "for", "and", "or", "but", "so", "that", "this", "there", "here", "with", "by", "from",
		"ha", "have", "had", "do", "doe", "did", "just", "very", "really", "about", "some", "any", "can", "could", "would", "will",
		"he", "she", "they", "them", "his", "her", "their", "what", "which", "who", "how", "when", "why", "all", "also", "hi", "hello", "um", "uh", "like":
		return true
	}
	return false
}

// stem folds the commonest English inflections so that "lifts" and "lift" share weights.
func stem(w string) string {
	w = strings.Trim(w, "'")
	w = strings.TrimSuffix(w, "'s")
	if allDigits(w) {
		return "0"
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}

func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// DetectLang says whether a text is mostly Chinese ("zh") or not ("en").
func DetectLang(text string) string {
	han, latin := 0, 0
	for _, r := range text {
		switch {
		case isHan(r):
			han++
		case r < 0x80 && unicode.IsLetter(r):
			latin++
		}
	}
	// An English word is several letters; a Chinese word one or two characters.
	if han*3 >= latin {
		if han == 0 {
			return "en"
		}
		return "zh"
	}
	return "en"
}
