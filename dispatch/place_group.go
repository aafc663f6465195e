package dispatch

// GroupPlaces puts places as work orders spell them (阳光花园3号楼, 新建路 门口) into groups
// of one place, telling places apart as the live hotspots do: a spelling stands for the
// first site it names, else the first place (Places), and two are one place when their
// names sound alike, one ending the other, with place words that agree (兴建路 = 新建路 =
// 沈家门兴建路; 阳光花园 = 洋光花园 = 阳光小区; 25路 = 二十五路公交) and the same building
// however it is said (三幢 = 3号楼 = 第三栋).
//
// Two things differ from a hotspot, because a report counts calls rather than gathering
// them: a spelling without a building stays apart from a building's (a call about
// 阳光花园 is not counted for its 3号楼), and a spelling that names no place groups only
// with the same text. A spelling joins the first group that holds its place, which keeps
// the shortest form of the name seen, as a hotspot does; so the order decides what an
// ambiguous spelling joins (阳光小区 when both 阳光花园 and 阳光家园 were called about):
// give the most called about first. The result depends on the spellings and their order
// only.
//
// It returns, for each spelling, the index of the first spelling of its group.
func GroupPlaces(spellings []string) []int {
	type group struct {
		first int
		p     Place // the shortest form of the name seen so far
	}
	out := make([]int, len(spellings))
	// Groups are found by what any two spellings of one place share: the kind, the
	// building and the last two syllables (a name that ends another ends in them), so
	// a month of spellings is not compared pairwise.
	byTail := map[placeTail][]*group{}
	byText := map[string]int{}
	for i, s := range spellings {
		p, ok := mainPlace(s)
		if !ok {
			key := normalize(s)
			first, seen := byText[key]
			if !seen {
				first = i
				byText[key] = i
			}
			out[i] = first
			continue
		}
		tail := placeTail{kind: p.kind, building: p.Building, last: p.key[len(p.key)-2], end: p.key[len(p.key)-1]}
		out[i] = i
		joined := false
		for _, g := range byTail[tail] {
			if sameName(g.p, p) {
				out[i], joined = g.first, true
				if len(p.key) < len(g.p.key) {
					g.p = p
				}
				break
			}
		}
		if !joined {
			byTail[tail] = append(byTail[tail], &group{first: i, p: p})
		}
	}
	return out
}

// placeTail is what every spelling of one place has in common.
type placeTail struct {
	kind      string
	building  int
	last, end string
}

// mainPlace is the place a spelling stands for: its first site, else its first place.
// A name of fewer than two syllables matches nothing (sameName) and stands for no place.
func mainPlace(s string) (Place, bool) {
	ps := Places(s)
	if len(ps) == 0 {
		return Place{}, false
	}
	p := ps[0]
	for _, q := range ps {
		if q.site() {
			p = q
			break
		}
	}
	return p, len(p.key) >= 2
}
