package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"lianxin/store"
)

// PlaceGrouper puts the spellings of places into groups of one place, returning for each
// spelling the index of the first spelling of its group. dispatch.GroupPlaces is the one
// the gateway uses; it lives there, with the live hotspots that tell places apart the same
// way, and reaches the reports through their configuration, as the group robot does.
//
// The spellings come most called about first (both periods together), then the earliest
// called about, then by text, so that a grouping that depends on their order (an ambiguous
// spelling joins the first group it fits) puts it with the place most called about.
type PlaceGrouper func(spellings []string) []int

// spelling is one spelling of a place, with its calls in the period and the one before.
type spelling struct {
	text      string
	cur, prev store.PlaceSpelling
	first     time.Time // of either period
}

// placeGroup is the calls about one place, however spelled.
type placeGroup struct {
	shown       *spelling // the spelling most of the period's calls had; ties: the earliest
	calls, prev int
	issues      map[string]int
}

// places lists the places most called about in the period, each spelling of a place
// counted with the others in both periods, so that the change is between the same places.
func (b *Builder) places(ctx context.Context, r *Report) error {
	cur, err := b.Source.PlaceSpellings(ctx, r.Period.From, r.Period.To)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	prev, err := b.Source.PlaceSpellings(ctx, r.Previous.From, r.Previous.To)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	groups, err := b.groupPlaces(mergeSpellings(cur, prev))
	if err != nil {
		return err
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].calls != groups[j].calls {
			return groups[i].calls > groups[j].calls
		}
		if groups[i].prev != groups[j].prev {
			return groups[i].prev > groups[j].prev
		}
		return groups[i].shown.text < groups[j].shown.text
	})
	r.Places = make([]Place, 0, topPlaces)
	for _, g := range groups[:min(topPlaces, len(groups))] {
		r.Places = append(r.Places, Place{Place: b.maskText(g.shown.text), Calls: g.calls, Prev: g.prev,
			Issue: label(b.Names.Issues, store.MainIssue(g.issues))})
	}
	return nil
}

// mergeSpellings pairs each spelling's calls in the two periods, in the order a
// PlaceGrouper is given them.
func mergeSpellings(cur, prev []store.PlaceSpelling) []*spelling {
	byText := make(map[string]*spelling, len(cur)+len(prev))
	var out []*spelling
	get := func(p store.PlaceSpelling) *spelling {
		sp := byText[p.Place]
		if sp == nil {
			sp = &spelling{text: p.Place, first: p.First}
			byText[p.Place] = sp
			out = append(out, sp)
		}
		if p.First.Before(sp.first) {
			sp.first = p.First
		}
		return sp
	}
	for _, p := range cur {
		get(p).cur = p
	}
	for _, p := range prev {
		get(p).prev = p
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if n, m := a.cur.Calls+a.prev.Calls, b.cur.Calls+b.prev.Calls; n != m {
			return n > m
		}
		if !a.first.Equal(b.first) {
			return a.first.Before(b.first)
		}
		return a.text < b.text
	})
	return out
}

// groupPlaces sums the spellings by the builder's grouping, keeping the groups called
// about in the period.
func (b *Builder) groupPlaces(sps []*spelling) ([]*placeGroup, error) {
	var ids []int
	if b.Places == nil {
		ids = make([]int, len(sps))
		for i := range ids {
			ids[i] = i
		}
	} else {
		texts := make([]string, len(sps))
		for i, sp := range sps {
			texts[i] = sp.text
		}
		ids = b.Places(texts)
		if len(ids) != len(sps) {
			return nil, fmt.Errorf("report: grouping places gave %d groups for %d spellings", len(ids), len(sps))
		}
	}
	byFirst := make([]*placeGroup, len(sps))
	var out []*placeGroup
	for i, sp := range sps {
		first := ids[i]
		if first < 0 || first > i {
			return nil, fmt.Errorf("report: grouping places put %q with spelling %d of %d", sp.text, first, i)
		}
		g := byFirst[first]
		if g == nil {
			g = &placeGroup{issues: map[string]int{}}
			byFirst[first] = g
		}
		g.calls += sp.cur.Calls
		g.prev += sp.prev.Calls
		for id, n := range sp.cur.Issues {
			g.issues[id] += n
		}
		if sp.cur.Calls == 0 {
			continue
		}
		if g.shown == nil {
			out = append(out, g)
		}
		if g.shown == nil || sp.cur.Calls > g.shown.cur.Calls || sp.cur.Calls == g.shown.cur.Calls && sp.cur.First.Before(g.shown.cur.First) {
			g.shown = sp
		}
	}
	return out, nil
}
