package dispatch

import (
	"sort"
	"strconv"
	"strings"
)

// alertIDPrefix starts every alert's id: hotspot-1, hotspot-2, …
const alertIDPrefix = "hotspot-"

// Restore takes up the alerts a previous run left open, each as it was last stored, so
// that they go on growing, can be acknowledged or closed, and expire on time. ids are the
// ids of every alert stored, so that new alerts' ids repeat none of them. A restored
// alert's calls are known by id only: each stands for a call about the alert's issue type
// at its place, made when its last call was. Alerts closed or expired, past their window,
// without calls, or already live are left out. It returns how many it took up.
func (h *Hotspots) Restore(alerts []Alert, ids []string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		h.seqPast(id)
	}
	now := h.now()
	n := 0
	for _, a := range alerts {
		h.seqPast(a.ID)
		switch {
		case a.State == "" || a.State == AlertClosed || a.State == AlertExpired,
			len(a.CallIDs) == 0, now.Sub(a.LastCallAt) > h.cfg.Window, h.has(a.ID):
			continue
		}
		h.groups = append(h.groups, h.restoredGroup(a))
		n++
	}
	sort.SliceStable(h.groups, func(i, j int) bool { return h.groups[i].lastAt().Before(h.groups[j].lastAt()) })
	return n
}

// seqPast makes new ids follow id when it is one of this detector's.
func (h *Hotspots) seqPast(id string) {
	rest, ok := strings.CutPrefix(id, alertIDPrefix)
	if n, err := strconv.Atoi(rest); ok && err == nil && n > h.seq {
		h.seq = n
	}
}

func (h *Hotspots) has(id string) bool {
	for _, g := range h.groups {
		if g.id == id {
			return true
		}
	}
	return false
}

// restoredGroup rebuilds an alert's group from what the alert says of it: its issue type,
// place, departments' choice and calls.
func (h *Hotspots) restoredGroup(a Alert) *hotGroup {
	norm := normalize(a.Place)
	places, building := extractPlaces(norm), buildingIn(norm)
	issues := []IssueSuggestion{{ID: a.IssueID, Name: a.Issue, Department: a.Department, Score: 1}}
	g := &hotGroup{id: a.ID, scope: h.scopeOf(a.IssueID), state: a.State, raisedAt: a.RaisedAt, ackBy: a.AckBy, ackAt: a.AckAt}
	for _, id := range a.CallIDs {
		g.calls = append(g.calls, &hotCall{id: id, dept: a.Department, norm: norm, at: a.LastCallAt,
			places: places, building: building, issues: issues})
	}
	return g
}
