package dispatch

import (
	"strconv"
	"strings"

	"github.com/mozillazg/go-pinyin"
)

// Place is where a caller says the problem is: a compound, market, school, road, village or
// bus route by name, and perhaps a building in it.
type Place struct {
	Name     string // as heard, e.g. 阳光花园
	Building int    // 3 for 三号楼, 3号楼, 第三栋, 3幢; 0 when none was said
	key      []string
	kind     string
	suffix   string // 花园, 路 …; "" for a bare name or a route
}

// String renders the place for an alert.
func (p Place) String() string {
	if p.Building > 0 {
		return p.Name + strconv.Itoa(p.Building) + "号楼"
	}
	return p.Name
}

// site reports whether the place is one site (a compound, market, school …) rather than a
// road, village or route that many sites share.
func (p Place) site() bool {
	switch p.kind {
	case "road", "village", "route", "community":
		return false
	}
	return true
}

// placeSuffix is a word that ends a place name and says what kind of place it is.
type placeSuffix struct{ word, kind string }

// placeSuffixes end the names of places; longer ones first so that 花园 wins over 园 and
// 菜市场 over 市场.
var placeSuffixes = []placeSuffix{
	{"农贸市场", "market"}, {"菜市场", "market"}, {"幼儿园", "school"}, {"工业园", "industrial"},
	{"汽车站", "station"}, {"火车站", "station"},
	{"花园", "compound"}, {"花苑", "compound"}, {"小区", "compound"}, {"家园", "compound"}, {"新村", "compound"},
	{"公寓", "compound"}, {"大厦", "compound"}, {"新城", "compound"}, {"名苑", "compound"}, {"雅苑", "compound"},
	{"山庄", "compound"}, {"公馆", "compound"}, {"菜场", "market"}, {"市场", "market"}, {"商场", "market"},
	{"小学", "school"}, {"中学", "school"}, {"学校", "school"}, {"大学", "school"}, {"医院", "hospital"},
	{"公园", "park"}, {"广场", "square"}, {"码头", "pier"}, {"大道", "road"}, {"大桥", "road"}, {"隧道", "road"},
	{"社区", "community"}, {"港湾", "compound"}, {"宿舍", "compound"}, {"大院", "compound"}, {"商城", "market"},
	{"超市", "market"}, {"酒店", "hotel"}, {"宾馆", "hotel"}, {"景区", "scenic"}, {"车站", "station"},
	{"苑", "compound"}, {"园", "compound"}, {"湾", "compound"}, {"村", "village"}, {"庄", "village"},
	{"路", "road"}, {"街", "road"}, {"巷", "road"},
}

// genericNames are words before a suffix that name no particular place (社区医院, 城区的路).
var genericNames = map[string]bool{"社区": true, "小区": true, "城区": true, "市区": true, "县城": true, "周边": true, "一个": true, "这种": true, "那种": true, "马路": true, "公交": true,
	"老旧": true, "人才": true, "高速": true, "私立": true, "民办": true, "公办": true, "普惠性": true, "集装箱": true, "客运": true, "港口": true, "通信": true,
	"农村": true, "十字": true, "生鲜": true, "五星": true, "长租": true, "当地": true, "对口": true, "线路": true, "老线": true, "乡镇": true, "职业": true,
	"配套": true, "附近": true, "周围": true, "本地": true, "外地": true, "这家": true, "那家": true, "一家": true, "大型": true, "小型": true, "新开": true,
	"路边": true, "街边": true, "企业": true, "单位": true, "学校": true, "医院": true, "中小": true, "大中": true, "农贸": true, "菜场": true, "公共": true, "地下": true, "露天": true}

// nameBreaks are words that cannot be inside a place name: speech before them is not the
// name (我们那个阳光花园 → 阳光花园, 我家孩子被学校 → no name). Single characters here are
// function words and verbs that proper names all but never contain (not 和, 上, 太, 向, 都:
// 和平路, 上海路, 太平路, 向阳路, 成都路).
var nameBreaks = []string{
	"一下", "知道", "时候", "以后", "过后", "孩子", "今天", "明天", "昨天", "请问", "感谢", "怀疑", "预约", "老板", "公司", "哪家",
	"哪里", "晚上", "早上", "上午", "下午", "中午", "白天", "半夜", "夜里", "凌晨", "每天", "天天", "最近", "平时", "今年", "明年",
	"去年", "刚才", "现在", "以前", "之前", "小区", "读", "把", "被", "给", "跟", "让", "往", "说", "想", "问", "请", "哪",
	"就", "也", "又", "还", "很", "不", "没", "吗", "呢", "吧", "着", "跑", "堵", "挡", "坐", "在", "城里", "这里", "那里",
	"附近", "旁边", "对面", "门口", "村里", "镇上", "市里", "区里", "的", "那个", "这个", "那块", "这边", "那边", "我们", "我家",
	"住在", "就是", "是", "到", "去", "从", "住", "这条", "那条", "喂", "嗯", "啊", "你好", "我", "个", "了",
}

// extractPlaces finds the named places in a normalised text. Names are at most four
// characters before the suffix, cut after any word that cannot be in a name.
func extractPlaces(norm string) []Place {
	runes := []rune(norm)
	var out []Place
	var ends []int // where each place's suffix ends
	for i := 0; i < len(runes); i++ {
		for _, suf := range placeSuffixes {
			sr := []rune(suf.word)
			if i+len(sr) > len(runes) || string(runes[i:i+len(sr)]) != suf.word {
				continue
			}
			if p, ok := placeBefore(runes, i, suf); ok {
				p.Building = buildingAfter(runes[i+len(sr):])
				out = append(out, p)
				ends = append(ends, i+len(sr))
			}
			i += len(sr) - 1
			break
		}
	}
	out, ends = appendSchools(runes, out, ends)
	return dropLandmarks(runes, out, ends)
}

// schoolNotAfter are characters after 一小 or 二中 that make them a quantity or a time
// (一小时, 一小会儿, 一中午), not a school.
const schoolNotAfter = "时会部块段点孩子半盒包袋杯碗瓶把口些份节片张间午心途文国学"

// appendSchools reads the way callers name schools by number: 定海一小, 定海第一小学, 二中,
// 定海3小. The place's key ends with the number and the level, so 一小 and 二小 differ.
func appendSchools(runes []rune, out []Place, ends []int) ([]Place, []int) {
	for i := 0; i < len(runes); i++ {
		j := i
		if runes[j] == '第' {
			j++
		}
		n, used := leadingNumber(runes[j:])
		if used == 0 || n > 99 {
			continue
		}
		k := j + used
		level, width := schoolLevel(runes[k:])
		if level == "" || i < 2 || !isHan(runes[i-1]) || !isHan(runes[i-2]) {
			continue
		}
		if width == 1 && k+1 < len(runes) && strings.ContainsRune(schoolNotAfter, runes[k+1]) {
			continue
		}
		prefix := runes[i-2 : i]
		if _, u := leadingNumber(prefix[1:]); u > 0 || genericNames[string(prefix)] {
			continue
		}
		name := string(prefix) + strconv.Itoa(n) + level
		key := append(syllables(string(prefix)), strconv.Itoa(n), level)
		out = append(out, Place{Name: name, key: key, kind: "school", suffix: level})
		ends = append(ends, k+width)
		i = k + width - 1
	}
	return out, ends
}

// schoolLevel reads 小 or 小学 (primary), 中 or 中学 (secondary) at the start of rs.
func schoolLevel(rs []rune) (string, int) {
	switch {
	case len(rs) >= 2 && (string(rs[:2]) == "小学" || string(rs[:2]) == "中学"):
		return string(rs[:1]), 2
	case len(rs) >= 1 && (rs[0] == '小' || rs[0] == '中'):
		return string(rs[:1]), 1
	}
	return "", 0
}

// landmarkWords after a place make it a landmark for the place named next: 泥峙村旁边的北峰村
// is at 北峰村.
var landmarkWords = []string{"旁边", "附近", "对面", "隔壁", "边上", "后面", "前面"}

// dropLandmarks removes the places that only locate the next place named.
func dropLandmarks(runes []rune, ps []Place, ends []int) []Place {
	out := ps[:0]
	for k, p := range ps {
		if k+1 < len(ps) && followedBy(runes[ends[k]:], landmarkWords...) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// placeBefore reads the name that ends at runes[i], where suffix suf begins.
func placeBefore(runes []rune, i int, suf placeSuffix) (Place, bool) {
	if suf.word == "街" && followedBy(runes[i+1:], "道") {
		return Place{}, false // 街道 is the sub-district office, not a street
	}
	if suf.word == "路" {
		if n, used := numberBefore(runes[:i]); used > 0 && (used >= 2 || followedBy(runes[i+1:], "公交", "车", "线")) {
			return Place{Name: strconv.Itoa(n) + "路", key: []string{"route", strconv.Itoa(n)}, kind: "route"}, true
		}
	}
	start := i
	for start > 0 && i-start < 4 && isHan(runes[start-1]) {
		start--
	}
	name := string(runes[start:i])
	for _, b := range nameBreaks {
		if k := strings.LastIndex(name, b); k >= 0 {
			name = name[k+len(b):]
		}
	}
	if len([]rune(name)) < 2 || genericNames[name] {
		return Place{}, false
	}
	return Place{Name: name + suf.word, key: syllables(name), kind: suf.kind, suffix: suf.word}, true
}

func followedBy(rest []rune, words ...string) bool {
	s := string(rest)
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// numberBefore reads a number that ends at the end of rs (25, 二十五), with how many runes
// it took.
func numberBefore(rs []rune) (int, int) {
	for k := min(len(rs), 4); k >= 1; k-- {
		if n, used := leadingNumber(rs[len(rs)-k:]); used == k {
			return n, k
		}
	}
	return 0, 0
}

// syllables spells a name in toneless pinyin folded the way ASR and southern accents
// confuse it (xing/xin, shen/sen, zhuang/zuan, nan/lan), so that 兴建路 = 新建路 and
// 阳光 = 洋光.
func syllables(name string) []string {
	a := pinyin.NewArgs()
	a.Fallback = func(r rune, _ pinyin.Args) []string { return []string{string(r)} }
	out := pinyin.LazyPinyin(name, a)
	for i, s := range out {
		out[i] = foldSyllable(s)
	}
	return out
}

func foldSyllable(s string) string {
	for _, p := range [][2]string{{"zh", "z"}, {"ch", "c"}, {"sh", "s"}} {
		if strings.HasPrefix(s, p[0]) {
			s = p[1] + s[len(p[0]):]
		}
	}
	if strings.HasPrefix(s, "n") && len(s) > 1 {
		s = "l" + s[1:]
	}
	for _, p := range [][2]string{{"ing", "in"}, {"eng", "en"}, {"ang", "an"}} {
		if strings.HasSuffix(s, p[0]) {
			return s[:len(s)-len(p[0])] + p[1]
		}
	}
	return s
}

// samePlace reports whether two places are the same one as far as speech can tell: the same
// kind of place, one name's sound ending the other's (阳光花园 and 东港阳光花园), and no
// conflicting building numbers.
func samePlace(a, b Place) bool {
	if a.Building > 0 && b.Building > 0 && a.Building != b.Building {
		return false
	}
	return sameName(a, b)
}

// sameName is samePlace without the building.
func sameName(a, b Place) bool {
	if a.kind != b.kind || !sameSuffix(a.suffix, b.suffix) {
		return false
	}
	return endsWith(a.key, b.key) || endsWith(b.key, a.key)
}

// sameSuffix reports whether two place suffixes of one kind can name the same place:
// 阳光花园 and 阳光家园 are two compounds, but 小区 is what callers call any compound, and a
// market is a market whatever word they use. An empty suffix (a bare name) fits any.
func sameSuffix(a, b string) bool {
	if a == b || a == "" || b == "" {
		return true
	}
	for _, generic := range []string{"小区", "学校", "菜场", "菜市场", "市场", "农贸市场"} {
		if a == generic || b == generic {
			return true
		}
	}
	return false
}

// endsWith reports whether short (at least two syllables) ends long.
func endsWith(long, short []string) bool {
	if len(short) < 2 || len(short) > len(long) {
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

// buildingUnits follow a building number: 3号楼, 三栋, 3幢, 十二座.
var buildingUnits = []string{"号楼", "栋", "幢", "座", "号"}

// buildingAfter reads a building number at the start of rest: 3号楼, 三号楼, 第三栋, 3幢.
func buildingAfter(rest []rune) int {
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '的' || rest[0] == '第') {
		rest = rest[1:]
	}
	n, used := leadingNumber(rest)
	if used == 0 {
		return 0
	}
	return unitAfter(rest[used:], n, buildingUnits)
}

func unitAfter(rest []rune, n int, units []string) int {
	tail := string(rest)
	for _, unit := range units {
		if strings.HasPrefix(tail, unit) {
			return n
		}
	}
	return 0
}

// buildingIn finds a building number anywhere in a text (我住五幢, 第三栋那个电梯), for callers
// who name the compound and the building apart. 号 alone is not enough there: it is as
// often a date.
func buildingIn(norm string) int {
	rs := []rune(norm)
	for i := range rs {
		if i > 0 {
			if _, used := leadingNumber(rs[i-1 : i]); used > 0 {
				continue // not the start of the number
			}
		}
		if n, used := leadingNumber(rs[i:]); used > 0 {
			if b := unitAfter(rs[i+used:], n, buildingUnits[:4]); b > 0 {
				return b
			}
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
	n, cur := 0, -1
	for ; i < len(rs); i++ {
		if d := digitValue(rs[i]); d >= 0 {
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

// digitValue is the value of a Chinese digit, or -1.
func digitValue(r rune) int {
	for d, c := range []rune("零一二三四五六七八九") {
		if c == r {
			return d
		}
	}
	if r == '两' {
		return 2
	}
	return -1
}
