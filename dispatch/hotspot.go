package dispatch

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// HotspotConfig tunes hotspot detection; zero values take the defaults.
type HotspotConfig struct {
	Window     time.Duration // how far back calls count (default 2h)
	Threshold  int           // calls in one group that raise an alert (default 3)
	Similarity float64       // text overlap needed to join a group, 0..1 (default 0.3)
	MaxCalls   int           // calls remembered at most, oldest dropped first (default 5000)
}

func (c *HotspotConfig) defaults() {
	if c.Window <= 0 {
		c.Window = 2 * time.Hour
	}
	if c.Threshold <= 0 {
		c.Threshold = 3
	}
	if c.Similarity <= 0 {
		c.Similarity = 0.3
	}
	if c.MaxCalls <= 0 {
		c.MaxCalls = 5000
	}
}

// Alert is a high-frequency issue (高频问题预警): several calls within the window about the
// same issue at the same place. ID stays the same while the group grows, so a wallboard can
// update the alert in place.
type Alert struct {
	ID         string    `json:"id"`
	Department string    `json:"department"`
	Issue      string    `json:"issue"`
	Place      string    `json:"place"`
	CallIDs    []string  `json:"call_ids"`
	At         time.Time `json:"at"`
}

// Hotspots groups recent calls by department, place and wording. It is safe for concurrent
// use.
type Hotspots struct {
	cfg HotspotConfig
	now func() time.Time

	mu     sync.Mutex
	calls  []*hotCall
	groups []*hotGroup
	seq    int
}

type hotCall struct {
	id, dept string
	content  []rune          // the text without places, numbers and filler
	grams    map[string]bool // character bigrams of content
	places   []Place
	at       time.Time
	group    *hotGroup
}

type hotGroup struct {
	id    string
	dept  string
	place Place
	calls []*hotCall
}

// NewHotspots starts an empty detector; now is its clock.
func NewHotspots(cfg HotspotConfig, now func() time.Time) *Hotspots {
	cfg.defaults()
	return &Hotspots{cfg: cfg, now: now}
}

// Observe records a call's department and caller text, and returns the alert of the group
// it joined when that group has reached the threshold. Observing a call id again replaces
// what was recorded for it. A call naming no place joins no group.
func (h *Hotspots) Observe(callID, deptID, text string) []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.forget(callID)
	h.prune(now, 1)
	norm := normalize(text)
	c := &hotCall{id: callID, dept: deptID, places: extractPlaces(norm), at: now}
	if len(c.places) == 0 || deptID == "" {
		return nil
	}
	c.content = issueText(norm, c.places)
	c.grams = bigrams(c.content)
	h.calls = append(h.calls, c)
	g := h.bestGroup(c)
	if g == nil {
		h.seq++
		g = &hotGroup{id: fmt.Sprintf("hotspot-%d", h.seq), dept: deptID, place: c.places[0]}
		h.groups = append(h.groups, g)
	}
	c.group = g
	g.calls = append(g.calls, c)
	if len(g.calls) < h.cfg.Threshold {
		return nil
	}
	return []Alert{g.alert(now)}
}

// Alerts returns every group at or above the threshold now.
func (h *Hotspots) Alerts() []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.prune(now, 0)
	var out []Alert
	for _, g := range h.groups {
		if len(g.calls) >= h.cfg.Threshold {
			out = append(out, g.alert(now))
		}
	}
	return out
}

// bestGroup is the group of the same department and place whose calls read most like c.
func (h *Hotspots) bestGroup(c *hotCall) *hotGroup {
	var best *hotGroup
	bestSim := h.cfg.Similarity
	for _, g := range h.groups {
		if g.dept != c.dept || !anySamePlace(g.place, c.places) {
			continue
		}
		for _, o := range g.calls {
			if s := overlap(c.grams, o.grams); s >= bestSim {
				best, bestSim = g, s
			}
		}
	}
	return best
}

func anySamePlace(p Place, ps []Place) bool {
	for _, q := range ps {
		if samePlace(p, q) {
			return true
		}
	}
	return false
}

// prune drops calls older than the window, and the oldest beyond MaxCalls less room.
func (h *Hotspots) prune(now time.Time, room int) {
	cut := 0
	for cut < len(h.calls) && (now.Sub(h.calls[cut].at) > h.cfg.Window || len(h.calls)-cut > h.cfg.MaxCalls-room) {
		h.detach(h.calls[cut])
		cut++
	}
	h.calls = h.calls[cut:]
}

func (h *Hotspots) forget(callID string) {
	for i, c := range h.calls {
		if c.id == callID {
			h.detach(c)
			h.calls = append(h.calls[:i], h.calls[i+1:]...)
			return
		}
	}
}

func (h *Hotspots) detach(c *hotCall) {
	g := c.group
	if g == nil {
		return
	}
	for i, o := range g.calls {
		if o == c {
			g.calls = append(g.calls[:i], g.calls[i+1:]...)
			break
		}
	}
	if len(g.calls) > 0 {
		return
	}
	for i, o := range h.groups {
		if o == g {
			h.groups = append(h.groups[:i], h.groups[i+1:]...)
			return
		}
	}
}

func (g *hotGroup) alert(now time.Time) Alert {
	a := Alert{ID: g.id, Department: g.dept, Place: g.place.String(), Issue: g.issue(), At: now}
	building := g.place.Building
	for _, c := range g.calls {
		a.CallIDs = append(a.CallIDs, c.id)
		for _, p := range c.places {
			if building == 0 && p.Building > 0 && samePlace(g.place, p) {
				building = p.Building
			}
		}
	}
	if building != g.place.Building {
		p := g.place
		p.Building = building
		a.Place = p.String()
	}
	return a
}

// issue names what the group's calls are about: the longest phrase of the first call that
// most of the group's calls also contain.
func (g *hotGroup) issue() string {
	first := g.calls[0].content
	need := (2*len(g.calls) + 2) / 3
	best := ""
	for n := 2; n <= 8; n++ {
		for i := 0; i+n <= len(first); i++ {
			p := string(first[i : i+n])
			if strings.ContainsRune(p, ' ') || len([]rune(p)) <= len([]rune(best)) {
				continue
			}
			k := 0
			for _, c := range g.calls {
				if strings.Contains(string(c.content), p) {
					k++
				}
			}
			if k >= need {
				best = p
			}
		}
	}
	return best
}

// issueText is what the call is about: its text with the places, numbers and filler taken
// out, so that two callers from one building do not look alike just by naming it.
func issueText(norm string, places []Place) []rune {
	for _, p := range places {
		norm = strings.ReplaceAll(norm, p.Name, " ")
	}
	for _, f := range []string{"号楼", "栋", "幢", "那个", "就是", "这个", "我们", "你好", "然后", "我家", "喂", "嗯", "啊", "呃"} {
		norm = strings.ReplaceAll(norm, f, " ")
	}
	out := []rune(norm)
	for i, r := range out {
		if _, used := leadingNumber([]rune{r}); used > 0 || r == '十' {
			out[i] = ' '
		}
	}
	return out
}

func bigrams(rs []rune) map[string]bool {
	m := map[string]bool{}
	for i := 0; i+1 < len(rs); i++ {
		if rs[i] != ' ' && rs[i+1] != ' ' {
			m[string(rs[i:i+2])] = true
		}
	}
	return m
}

// overlap is the share of the smaller bigram set found in the other.
func overlap(a, b map[string]bool) float64 {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}
