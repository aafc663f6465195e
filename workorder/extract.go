package workorder

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"lianxin/dispatch"
)

// numeral is a digit or a Chinese numeral as callers say house and room numbers.
const numeral = `[0-9０-９零〇一二两三四五六七八九十百幺]`

// addressTail reads what follows a place name in a spoken address: 3号楼2单元501室, 88号,
// 第三栋, 五楼.
var addressTail = regexp.MustCompile(`^(?:(?:第?` + numeral + `+(?:号楼|号院|号|栋|幢|座|单元|室|楼|层|弄|户|门|巷))|(?:` + numeral + `{3,4}))+`)

// addressHead reads a district, town or sub-district said just before a place name.
var addressHead = regexp.MustCompile(`\p{Han}{2,4}(?:区|县|镇|乡|街道)$`)

// notInPlaceName are verbs callers use around places that proper names all but never hold;
// a name with one is a stretch of speech ending in a place word, not an address.
const notInPlaceName = "绕跳看打租给说走修坏收买卖去到是有没让叫骂偷挖"

// placeAndAddress returns the first place the caller names (dispatch's extractor) and the
// spoken address around it: the district before it and the building, unit and room after.
func placeAndAddress(text string) (place, address string) {
	for _, p := range dispatch.Places(text) {
		at := strings.Index(text, p.Name)
		if at < 0 {
			continue // a name the extractor rebuilt; only what was said is an address
		}
		if strings.ContainsAny(p.Name, notInPlaceName) {
			continue // speech the extractor took for a name: 车司机绕路, 孩打疫苗社区
		}
		place = p.String()
		end := at + len(p.Name)
		if m := addressTail.FindString(text[end:]); m != "" {
			end += len(m)
		}
		start := at
		if m := addressHead.FindStringIndex(text[:at]); m != nil {
			start = m[0]
		}
		return place, strings.TrimSpace(text[start:end])
	}
	return "", ""
}

// eventTimes are the ways callers say when something happened, most precise first; the
// first found is the event time.
var eventTimes = []*regexp.Regexp{
	regexp.MustCompile(`(?:(?:` + numeral + `{1,3}月` + numeral + `{1,3}[日号])|今天|昨天|前天|今晚|昨晚|昨夜|今早|昨早|上周.|这周.|星期.|礼拜.)` +
		`(?:早上|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨)?(?:` + numeral + `{1,3}点(?:半|` + numeral + `{1,3}分?)?(?:左右|多)?)?`),
	regexp.MustCompile(`(?:早上|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨)` + numeral + `{1,3}点(?:半|` + numeral + `{1,3}分?)?(?:左右|多)?`),
	regexp.MustCompile(`(?:` + numeral + `|半|好几|几)个?(?:多)?(?:天|星期|礼拜|月|小时)了`),
}

// EventTime is when the caller says it happened (昨天晚上十点多, 3月5日), or how long it has
// gone on (三天了); "" when they did not say.
func EventTime(text string) string {
	for _, re := range eventTimes {
		for _, m := range re.FindAllString(text, -1) {
			if utf8.RuneCountInString(m) >= 2 {
				return m
			}
		}
	}
	return ""
}

// urgentWords name the emergencies that make an order urgent and alert the supervisor at
// once, with what callers (and the recogniser) say for each.
var urgentWords = []struct {
	reason string
	words  []string
}{
	{"燃气泄漏", []string{"煤气味", "燃气味", "天然气味", "煤气泄漏", "燃气泄漏", "天然气泄漏", "煤气漏", "燃气漏", "漏煤气", "漏燃气", "漏气"}},
	{"火情", []string{"着火", "起火", "失火", "火灾", "烧起来", "冒黑烟", "冒烟", "火很大"}},
	{"人员被困", []string{"被困", "困在", "困住", "困人", "关在电梯", "卡在电梯", "出不来"}},
	{"自伤风险", []string{"不想活", "自杀", "轻生", "寻死", "活不下去", "想死", "跳楼", "割腕", "了结自己"}},
}

// negations before an urgent word within a few runes say it did not happen (没有着火), or
// has not happened yet (万一着火, 怕起火).
var negations = []string{"没有", "没", "不是", "并未", "未", "万一", "如果", "要是", "怕", "担心", "防止"}

// negationWindow is how many runes before an urgent word a negation is looked for: enough
// for 担心孩子被困 (the worry, not the event), short enough not to reach the last clause.
const negationWindow = 5

// notUrgent are everyday words that hold an urgent word: a water heater that will not light
// (打不着火) is no fire.
var notUrgent = []string{"打不着火", "点不着火", "不着火", "着火点", "冒烟囱"}

// Urgency returns why the text is urgent, each reason once, in the list's order; nil when
// it is not.
func Urgency(text string) []string {
	for _, w := range notUrgent {
		text = strings.ReplaceAll(text, w, "，")
	}
	var out []string
	for _, u := range urgentWords {
		for _, w := range u.words {
			if said(text, w) {
				out = append(out, u.reason)
				break
			}
		}
	}
	return out
}

// said reports whether w occurs in text at least once without a negation just before it.
func said(text, w string) bool {
	for off := 0; ; {
		i := strings.Index(text[off:], w)
		if i < 0 {
			return false
		}
		at := off + i
		before := []rune(text[:at])
		if len(before) > negationWindow {
			before = before[len(before)-negationWindow:]
		}
		negated := false
		for _, n := range negations {
			if strings.Contains(string(before), n) {
				negated = true
			}
		}
		if !negated {
			return true
		}
		off = at + len(w)
	}
}
