package dispatch

import (
	"strconv"
	"strings"

	"github.com/mozillazg/go-pinyin"
)

// Place is where a caller says the problem is: a compound, road or village by name, and
// perhaps a building in it.
type Place struct {
	Name     string // as heard, e.g. 阳光花园
	Building int    // 3 for 三号楼, 3号楼, 三栋, 3幢; 0 when none was said
	key      []string
	kind     string
}

// String renders the place for an alert.
func (p Place) String() string {
	if p.Building > 0 {
		return p.Name + strconv.Itoa(p.Building) + "号楼"
	}
	return p.Name
}

// placeSuffixes end the names of compounds, roads and villages; longer ones first so that
// 花园 wins over 园.
var placeSuffixes = []string{"花园", "花苑", "小区", "家园", "新村", "公寓", "大厦", "新城", "社区", "广场", "名苑", "雅苑", "苑", "府", "村", "路", "街"}

// namePrefixes are words that run into a place name in speech and are not part of it.
var namePrefixes = []string{"我们", "我家", "咱们", "住在", "那个", "就是", "这个", "你好", "喂", "嗯", "啊", "在", "的", "我", "是", "到", "去", "这条", "那条", "这", "那", "个"}

// extractPlaces finds the named places in a normalised text. Names are at most four
// characters before the suffix; filler that runs into them is cut off.
func extractPlaces(norm string) []Place {
	runes := []rune(norm)
	var out []Place
	for i := 0; i < len(runes); i++ {
		for _, suf := range placeSuffixes {
			sr := []rune(suf)
			if i+len(sr) > len(runes) || string(runes[i:i+len(sr)]) != suf {
				continue
			}
			start := i
			for start > 0 && i-start < 4 && isHan(runes[start-1]) {
				start--
			}
			name := string(runes[start:i])
			if k := strings.LastIndex(name, "的"); k >= 0 {
				name = name[k+len("的"):] // names hardly contain 的; speech before it is not the name
			}
			name = trimNamePrefix(name)
			if len([]rune(name)) >= 2 {
				p := Place{Name: name + suf, kind: suf}
				p.key = syllables(name)
				p.Building = buildingAfter(runes[i+len(sr):])
				out = append(out, p)
			}
			i += len(sr) - 1
			break
		}
	}
	return out
}

func trimNamePrefix(name string) string {
	for changed := true; changed; {
		changed = false
		for _, p := range namePrefixes {
			if strings.HasPrefix(name, p) && len(name) > len(p) {
				name, changed = name[len(p):], true
			}
		}
	}
	return name
}

// syllables spells a name in toneless pinyin, so that ASR homophones (阳光/洋光) agree.
func syllables(name string) []string {
	a := pinyin.NewArgs()
	a.Fallback = func(r rune, _ pinyin.Args) []string { return []string{string(r)} }
	return pinyin.LazyPinyin(name, a)
}

// samePlace reports whether two places are the same one as far as speech can tell: the same
// kind of place, one name's sound ending the other's (阳光花园 and 东港阳光花园), and no
// conflicting building numbers.
func samePlace(a, b Place) bool {
	if syllableKey(a.kind) != syllableKey(b.kind) {
		return false
	}
	if a.Building > 0 && b.Building > 0 && a.Building != b.Building {
		return false
	}
	short, long := a.key, b.key
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(short) < 2 {
		return false
	}
	off := len(long) - len(short)
	for i, s := range short {
		if long[off+i] != s {
			return false
		}
	}
	return true
}

func syllableKey(s string) string { return strings.Join(syllables(s), " ") }

// buildingAfter reads a building number at the start of rest: 3号楼, 三号楼, 三栋, 3幢, 十二座.
func buildingAfter(rest []rune) int {
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '的') {
		rest = rest[1:]
	}
	n, used := leadingNumber(rest)
	if used == 0 {
		return 0
	}
	tail := string(rest[used:])
	for _, unit := range []string{"号楼", "栋", "幢", "座", "号"} {
		if strings.HasPrefix(tail, unit) {
			return n
		}
	}
	return 0
}

// leadingNumber parses Arabic digits or a Chinese numeral up to 99 at the start of rs.
func leadingNumber(rs []rune) (int, int) {
	i := 0
	for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
		i++
	}
	if i > 0 {
		n, err := strconv.Atoi(string(rs[:i]))
		if err != nil || n > 9999 {
			return 0, 0
		}
		return n, i
	}
	digit := map[rune]int{'零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	n, cur := 0, -1
	for ; i < len(rs); i++ {
		if d, ok := digit[rs[i]]; ok {
			cur = d
			continue
		}
		if rs[i] == '十' {
			if cur < 0 {
				cur = 1
			}
			n, cur = cur*10, -1
			continue
		}
		break
	}
	if cur >= 0 {
		n += cur
	}
	if i == 0 || n == 0 {
		return 0, 0
	}
	return n, i
}
