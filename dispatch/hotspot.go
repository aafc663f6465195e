package dispatch

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// HotspotConfig tunes hotspot detection; zero values take the defaults.
type HotspotConfig struct {
	Window     time.Duration // how far back calls count, and how long an alert lives without a new call (default 2h)
	Threshold  int           // calls within the window that raise an alert (default 3)
	Similarity float64       // issue-type agreement needed to join a group, 0..1 (default 0.3)
	MaxCalls   int           // calls remembered at most, oldest dropped first (default 5000)
	// Issues ranks the issue types of calls that come without one; nil means the built-in
	// issue types with the built-in department classifier as prior.
	Issues *IssueClassifier
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

// Alert life-cycle states.
const (
	AlertRaised       = "raised"       // the group reached the threshold
	AlertGrown        = "grown"        // more calls joined after it was raised
	AlertAcknowledged = "acknowledged" // an admin has seen it; it still grows
	AlertClosed       = "closed"       // an admin closed it; later calls start a new group
	AlertExpired      = "expired"      // no call joined within the window
)

// ErrNoAlert is returned when acknowledging or closing an alert that is not live.
var ErrNoAlert = errors.New("dispatch: no such live hotspot alert")

// Alert is a high-frequency issue (高频问题预警): several calls within the window about the
// same issue type at the same place. ID stays the same while the group grows, so a
// wallboard can update the alert in place.
type Alert struct {
	ID         string    `json:"id"`
	Department string    `json:"department"`
	Issue      string    `json:"issue"`    // the issue type's name, e.g. 电梯故障
	IssueID    string    `json:"issue_id"` // e.g. lift-fault
	Place      string    `json:"place"`
	CallIDs    []string  `json:"call_ids"`
	At         time.Time `json:"at"` // when this state of the alert was reached
	State      string    `json:"state"`
	RaisedAt   time.Time `json:"raised_at"`
	AckBy      string    `json:"ack_by,omitempty"`
	AckAt      time.Time `json:"ack_at,omitzero"`
	ClosedBy   string    `json:"closed_by,omitempty"`
	EndedAt    time.Time `json:"ended_at,omitzero"` // closed or expired
	// LastCallAt is when its latest call came: an open alert expires a window after it
	// unless another call joins.
	LastCallAt time.Time `json:"last_call_at"`
}

// Call is one call as hotspot detection sees it. Department and Issue are optional: an
// issue (id or name) given is trusted, otherwise the text is classified; departments never
// split a group and only name the alert's department (the one most calls were given; a
// call given none counts for its issue type's usual department).
type Call struct {
	ID         string
	At         time.Time
	Text       string
	Department string
	Issue      string
}

// Hotspots groups recent calls by issue type and place, and keeps each group's alert life
// cycle. It is safe for concurrent use.
type Hotspots struct {
	cfg    HotspotConfig
	now    func() time.Time
	issues func() (*IssueClassifier, error)

	mu     sync.Mutex
	groups []*hotGroup // live groups, oldest first
	seq    int
}

// NewHotspots starts an empty detector; now is its clock for Observe, Alerts, Acknowledge
// and Close (Add takes each call's own time).
func NewHotspots(cfg HotspotConfig, now func() time.Time) *Hotspots {
	cfg.defaults()
	h := &Hotspots{cfg: cfg, now: now}
	if cfg.Issues != nil {
		h.issues = func() (*IssueClassifier, error) { return cfg.Issues, nil }
	} else {
		h.issues = sync.OnceValues(func() (*IssueClassifier, error) {
			c, err := NewDefault()
			if err != nil {
				return nil, err
			}
			return c.IssueClassifier()
		})
	}
	return h
}

// Observe records a call's department and caller text at the clock's time, and returns the
// alert of the group it joined when that group is at or over the threshold. Observing a
// call id again replaces what was recorded for it. A call naming no place joins no group.
func (h *Hotspots) Observe(callID, deptID, text string) []Alert {
	a, err := h.Add(Call{ID: callID, At: h.now(), Text: text, Department: deptID})
	if err != nil || a == nil {
		return nil
	}
	return []Alert{*a}
}

// Add records a call at its own time and returns its group's alert when this call raised
// or grew it (State says which), or nil. Calls should come in time order; groups that had
// no call within the window before this one expire first.
func (h *Hotspots) Add(call Call) (*Alert, error) {
	c, err := h.analyse(call)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(call.At)
	h.forget(call.ID)
	h.addMentions(c)
	if len(c.places) == 0 || len(c.issues) == 0 {
		return nil, nil
	}
	g := h.bestGroup(c)
	if g == nil {
		h.seq++
		g = &hotGroup{id: fmt.Sprintf("%s%d", alertIDPrefix, h.seq), state: "", scope: h.scopeOf(c.issues[0].ID)}
		h.groups = append(h.groups, g)
	}
	g.add(c, h.cfg.Window)
	h.limit()
	switch {
	case g.state == "" && g.recent(call.At, h.cfg.Window) >= h.cfg.Threshold:
		g.state, g.raisedAt = AlertRaised, call.At
	case g.state == AlertRaised || g.state == AlertGrown:
		g.state = AlertGrown
	case g.state != AlertAcknowledged:
		return nil, nil
	}
	a := g.alert(call.At, h.issuesOrNil())
	return &a, nil
}

// analyse classifies a call and finds its places, outside the lock: ranking is the slow
// part, and needs no group state.
func (h *Hotspots) analyse(call Call) (*hotCall, error) {
	norm := normalize(call.Text)
	c := &hotCall{id: call.ID, at: call.At, dept: call.Department, norm: norm, places: extractPlaces(norm), building: buildingIn(norm)}
	ic, err := h.issues()
	if err != nil {
		return nil, err
	}
	if call.Issue != "" {
		if t, ok := ic.Issues().ByName(call.Issue); ok {
			c.issues = []IssueSuggestion{{ID: t.ID, Name: t.Name, Department: t.Department, Score: 1}}
			return c, nil
		}
	}
	// The department does not steer the issue type here: it may be the classifier's own
	// guess or the tie-break's other answer (a lift sent to 住建), and department
	// disagreement must not split a group. The alert reports the departments given.
	c.issues = ic.Rank(call.Text, "", 5)
	return c, nil
}

func (h *Hotspots) issuesOrNil() *Issues {
	if ic, err := h.issues(); err == nil {
		return ic.Issues()
	}
	return nil
}

func (h *Hotspots) scopeOf(issue string) string {
	if is := h.issuesOrNil(); is != nil {
		if t, ok := is.Get(issue); ok {
			return t.Scope
		}
	}
	return ScopeSite
}

// bestGroup is the live group at a compatible place that the call most likely belongs to:
// among those whose issue types agree enough, the one with the best agreement weighed by
// the square root of its size. When the issue evidence is split (红灯一直亮着: a signal
// or a street light?), a group many callers have joined is the likelier home, as in a
// Chinese-restaurant-process prior.
func (h *Hotspots) bestGroup(c *hotCall) *hotGroup {
	is := h.issuesOrNil()
	var best *hotGroup
	bestScore := 0.0
	for _, g := range h.groups {
		if !g.live() || !placesAgree(c, g) {
			continue
		}
		s := issueSimilarity(is, c.issues, g.issueDist())
		if s < h.cfg.Similarity {
			continue
		}
		if score := s * math.Sqrt(float64(len(g.calls))); score > bestScore {
			best, bestScore = g, score
		}
	}
	return best
}

// Alerts returns every live alert (raised, grown or acknowledged) now.
func (h *Hotspots) Alerts() []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweep(now)
	var out []Alert
	for _, g := range h.groups {
		if g.live() && g.state != "" {
			out = append(out, g.alert(now, h.issuesOrNil()))
		}
	}
	return out
}

// Acknowledge records that an admin has seen a live alert; it goes on growing.
func (h *Hotspots) Acknowledge(alertID, who string) (Alert, error) {
	return h.update(alertID, func(g *hotGroup, now time.Time) {
		g.state, g.ackBy, g.ackAt = AlertAcknowledged, who, now
	})
}

// Close ends a live alert; later calls about the same issue at the place start a new group.
func (h *Hotspots) Close(alertID, who string) (Alert, error) {
	return h.update(alertID, func(g *hotGroup, now time.Time) {
		g.state, g.closedBy, g.endedAt = AlertClosed, who, now
	})
}

// Expire ends the alerts that had no call within the window before now and returns them,
// so that a wallboard can take them down.
func (h *Hotspots) Expire() []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sweep(h.now())
}

func (h *Hotspots) update(alertID string, f func(*hotGroup, time.Time)) (Alert, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweep(now)
	for _, g := range h.groups {
		if g.id == alertID && g.live() && g.state != "" {
			f(g, now)
			a := g.alert(now, h.issuesOrNil())
			if !g.live() {
				h.drop(g)
			}
			return a, nil
		}
	}
	return Alert{}, fmt.Errorf("%w: %q", ErrNoAlert, alertID)
}

// sweep expires groups with no call within the window before now and returns the alerts
// that ended.
func (h *Hotspots) sweep(now time.Time) []Alert {
	var ended []Alert
	keep := h.groups[:0]
	for _, g := range h.groups {
		if now.Sub(g.lastAt()) <= h.cfg.Window {
			keep = append(keep, g)
			continue
		}
		if g.state != "" {
			g.state, g.endedAt = AlertExpired, g.lastAt().Add(h.cfg.Window)
			ended = append(ended, g.alert(now, h.issuesOrNil()))
		}
	}
	clear(h.groups[len(keep):])
	h.groups = keep
	return ended
}

func (h *Hotspots) drop(g *hotGroup) {
	for i, o := range h.groups {
		if o == g {
			h.groups = append(h.groups[:i], h.groups[i+1:]...)
			return
		}
	}
}

// forget removes an earlier record of the same call (its transcript grew).
func (h *Hotspots) forget(callID string) {
	for _, g := range h.groups {
		for i, c := range g.calls {
			if c.id == callID {
				g.calls = append(g.calls[:i], g.calls[i+1:]...)
				if len(g.calls) == 0 {
					h.drop(g)
				}
				return
			}
		}
	}
}

// limit drops the oldest calls beyond MaxCalls.
func (h *Hotspots) limit() {
	n := 0
	for _, g := range h.groups {
		n += len(g.calls)
	}
	for n > h.cfg.MaxCalls && len(h.groups) > 0 {
		sort.SliceStable(h.groups, func(i, j int) bool { return h.groups[i].calls[0].at.Before(h.groups[j].calls[0].at) })
		g := h.groups[0]
		g.calls = g.calls[1:]
		n--
		if len(g.calls) == 0 {
			h.groups = h.groups[1:]
		}
	}
}
