package dispatch

import (
	"sort"
	"strings"
	"time"
)

type hotCall struct {
	id, dept string
	norm     string
	at       time.Time
	places   []Place
	building int // the building said anywhere in the call, 0 when none
	issues   []IssueSuggestion
}

type hotGroup struct {
	id       string
	scope    string
	calls    []*hotCall
	state    string // "" until raised
	raisedAt time.Time
	ackBy    string
	ackAt    time.Time
	closedBy string
	endedAt  time.Time
}

func (g *hotGroup) live() bool { return g.state != AlertClosed && g.state != AlertExpired }

func (g *hotGroup) lastAt() time.Time { return g.calls[len(g.calls)-1].at }

// add appends a call. Until the group is raised, calls older than the window before it
// drop out: three calls spread over a day are not a hotspot. A raised group keeps every
// call, so the alert shows all who called about it.
func (g *hotGroup) add(c *hotCall, window time.Duration) {
	if g.state == "" {
		keep := g.calls[:0]
		for _, o := range g.calls {
			if c.at.Sub(o.at) <= window {
				keep = append(keep, o)
			}
		}
		g.calls = keep
	}
	g.calls = append(g.calls, c)
}

// recent counts the calls within the window before now.
func (g *hotGroup) recent(now time.Time, window time.Duration) int {
	n := 0
	for _, c := range g.calls {
		if now.Sub(c.at) <= window {
			n++
		}
	}
	return n
}

// issueDist is the group's issue types: the mean of its calls' rankings.
func (g *hotGroup) issueDist() map[string]float64 {
	d := map[string]float64{}
	for _, c := range g.calls {
		for _, s := range c.issues {
			d[s.ID] += s.Score / float64(len(g.calls))
		}
	}
	return d
}

// relatedWeight is how much a related issue type counts towards agreement (停水 with 水压低).
const relatedWeight = 0.6

// issueSimilarity is the chance that a call and a group are about the same (or a related)
// issue type, from the call's ranking and the group's mean ranking.
func issueSimilarity(is *Issues, call []IssueSuggestion, group map[string]float64) float64 {
	var s float64
	for _, c := range call {
		for id, q := range group {
			switch {
			case id == c.ID:
				s += c.Score * q
			case is != nil && is.related(id, c.ID):
				s += relatedWeight * c.Score * q
			}
		}
	}
	return s
}

// placesAgree reports whether a call's places are the group's place, as precisely as the
// group's issue scope asks: they share a place; if both name sites (compounds, markets …)
// some site is shared, unless the issue is a road's and they share the road; and for a
// building's issue both name the same building when both name one.
func placesAgree(c *hotCall, g *hotGroup) bool {
	sharedSite, sharedArea := false, false
	callSites, groupSites := false, false
	for _, p := range c.places {
		callSites = callSites || p.site()
		for _, o := range g.calls {
			for _, q := range o.places {
				groupSites = groupSites || q.site()
				if sameName(p, q) {
					sharedSite = sharedSite || p.site()
					sharedArea = sharedArea || !p.site()
				}
			}
		}
	}
	if !groupSites {
		for _, o := range g.calls {
			for _, q := range o.places {
				groupSites = groupSites || q.site()
			}
		}
	}
	switch {
	case !sharedSite && !sharedArea:
		return false
	case callSites && groupSites && !sharedSite && !(g.scope == ScopeRoad && sharedArea):
		return false
	}
	if g.scope == ScopeBuilding {
		if b, gb := c.buildingNo(), g.building(); b > 0 && gb > 0 && b != gb {
			return false
		}
	}
	return true
}

func (c *hotCall) buildingNo() int {
	for _, p := range c.places {
		if p.Building > 0 {
			return p.Building
		}
	}
	return c.building
}

// building is the first building number the group's callers said.
func (g *hotGroup) building() int {
	for _, c := range g.calls {
		if b := c.buildingNo(); b > 0 {
			return b
		}
	}
	return 0
}

// addMentions adds the live groups' places that a call names without a suffix (庙桥 for
// 庙桥村, 晓沙庙桥 heard for 小沙庙桥村): the stream itself is the gazetteer.
func (h *Hotspots) addMentions(c *hotCall) {
	sy := syllables(c.norm)
	runes := []rune(c.norm)
	if len(sy) != len(runes) {
		return // pinyin and text out of step (should not happen): no bare names
	}
	for _, g := range h.groups {
		for _, o := range g.calls {
			for _, q := range o.places {
				if q.kind == "route" || hasName(c.places, q) {
					continue
				}
				if at, n := findKey(sy, q.key); n > 0 && !suffixAt(runes[at+n:]) {
					c.places = append(c.places, Place{Name: string(runes[at : at+n]), key: q.key[len(q.key)-n:], kind: q.kind})
				}
			}
		}
	}
}

// suffixAt reports whether a place suffix starts rest: a name heard before one is that
// place's (青龙 in 青龙新村 is not 青龙山庄), and extractPlaces has read it already.
func suffixAt(rest []rune) bool {
	s := string(rest)
	for _, suf := range placeSuffixes {
		if strings.HasPrefix(s, suf.word) {
			return true
		}
	}
	return false
}

func hasName(ps []Place, q Place) bool {
	for _, p := range ps {
		if sameName(p, q) {
			return true
		}
	}
	return false
}

// findKey finds a name's whole sound (at least two syllables) in the text's syllables,
// returning where and how many syllables. Only the whole name counts: a tail of a name is
// too often an ordinary word.
func findKey(sy, key []string) (int, int) {
	n := len(key)
	if n < 2 {
		return 0, 0
	}
	for i := 0; i+n <= len(sy); i++ {
		if equalStrings(sy[i:i+n], key) {
			return i, n
		}
	}
	return 0, 0
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// alert renders the group: its main issue type, the place most of its callers named and
// every call.
func (g *hotGroup) alert(now time.Time, is *Issues) Alert {
	a := Alert{ID: g.id, State: g.state, At: now, RaisedAt: g.raisedAt, AckBy: g.ackBy, AckAt: g.ackAt, ClosedBy: g.closedBy,
		EndedAt: g.endedAt, LastCallAt: g.lastAt()}
	dist := g.issueDist()
	best := ""
	for id, p := range dist {
		if best == "" || p > dist[best] || p == dist[best] && id < best {
			best = id
		}
	}
	a.IssueID, a.Issue = best, best
	if is != nil {
		if t, ok := is.Get(best); ok {
			a.Issue, a.Department = t.Name, t.Department
		}
	}
	votes := map[string]int{}
	for _, c := range g.calls {
		a.CallIDs = append(a.CallIDs, c.id)
		// A call given no department votes for its issue type's usual one.
		if d := c.dept; d != "" {
			votes[d]++
		} else if len(c.issues) > 0 {
			votes[c.issues[0].Department]++
		}
	}
	depts := make([]string, 0, len(votes))
	for d := range votes {
		depts = append(depts, d)
	}
	sort.Strings(depts)
	for _, d := range depts {
		if votes[d] > votes[a.Department] {
			a.Department = d // the department most calls were given; a tie keeps the issue's own
		}
	}
	a.Place = g.placeName()
	return a
}

// placeName is the place most of the group's calls named, a site before a road when the
// issue is not a road's, with the building when the issue is a building's.
func (g *hotGroup) placeName() string {
	type tally struct {
		p     Place
		n     int
		names map[string]int // spellings heard of the shortest form
	}
	var ts []*tally
	for _, c := range g.calls {
		for _, p := range c.places {
			found := false
			for _, t := range ts {
				if sameName(t.p, p) {
					t.n++
					if len(p.key) < len(t.p.key) {
						// The shortest form drops speech the name window took in
						// (沈家门兴建路 → 兴建路).
						t.p, t.names = p, map[string]int{}
					}
					if len(p.key) == len(t.p.key) {
						t.names[p.Name]++
					}
					found = true
					break
				}
			}
			if !found {
				ts = append(ts, &tally{p: p, n: 1, names: map[string]int{p.Name: 1}})
			}
		}
	}
	if len(ts) == 0 {
		return ""
	}
	rank := func(t *tally) int {
		r := 2 * t.n
		if t.p.site() != (g.scope == ScopeRoad) {
			r++
		}
		return r
	}
	sort.SliceStable(ts, func(i, j int) bool { return rank(ts[i]) > rank(ts[j]) })
	p := ts[0].p
	for name, n := range ts[0].names {
		if n > ts[0].names[p.Name] || n == ts[0].names[p.Name] && name < p.Name {
			p.Name = name // the spelling most callers' transcripts agree on
		}
	}
	p.Building = 0
	if g.scope == ScopeBuilding {
		p.Building = g.building()
	}
	return p.String()
}
