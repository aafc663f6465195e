package dispatch

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// TrackerOptions tune when a Tracker speaks up; zero values take the defaults.
type TrackerOptions struct {
	Top      int     // departments per suggestion (default 3)
	MinRunes int     // ignore transcripts with fewer characters than this besides greetings and filler (default 6)
	MinScore float64 // top-1 probability needed to suggest with confidence (default 0.6)
	Margin   float64 // lead of top-1 over top-2 needed to suggest or to change (default 0.15)
	// A transcript of TentativeRunes characters or more whose top-1 reaches TentativeScore
	// but not MinScore gets a tentative suggestion (shown differently): English speech
	// through the embedded recogniser rarely reaches MinScore before the end of the call
	// (defaults 24 and 0.3).
	TentativeRunes int
	TentativeScore float64
}

func (o *TrackerOptions) defaults() {
	if o.Top <= 0 {
		o.Top = 3
	}
	if o.MinRunes <= 0 {
		o.MinRunes = 6
	}
	if o.MinScore <= 0 {
		o.MinScore = 0.6
	}
	if o.Margin <= 0 {
		o.Margin = 0.15
	}
	if o.TentativeRunes <= 0 {
		o.TentativeRunes = 24
	}
	if o.TentativeScore <= 0 {
		o.TentativeScore = 0.3
	}
}

// Tracker follows one call's caller transcript as it grows and decides when the agent's
// suggestion should change: the first time a ranking is confident, and afterwards only when
// a different department takes the lead by a clear margin. Partials that merely refine the
// same ranking say nothing. It is safe for concurrent use, though one call feeds it in order.
type Tracker struct {
	c    *Classifier
	opts TrackerOptions

	mu        sync.Mutex
	last      string // transcript of the last Update, to skip repeats
	shownTop  string // top-1 id of the last emitted suggestion
	tentative bool   // the last emitted suggestion was tentative
}

// NewTracker starts tracking one call.
func NewTracker(c *Classifier, opts TrackerOptions) *Tracker {
	opts.defaults()
	return &Tracker{c: c, opts: opts}
}

// Update takes the caller's whole transcript so far (finals then the current partial) and
// returns a suggestion and true when it should be shown, or nil and false when the one on
// screen still stands.
func (t *Tracker) Update(transcript string) ([]Suggestion, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	transcript = strings.TrimSpace(transcript)
	runes := contentRunes(transcript)
	if transcript == t.last || runes < t.opts.MinRunes {
		return nil, false
	}
	t.last = transcript
	ranked := t.c.Rank(transcript, max(t.opts.Top, 2))
	if len(ranked) < 2 {
		return nil, false
	}
	confident := ranked[0].Score >= t.opts.MinScore && ranked[0].Score-ranked[1].Score >= t.opts.Margin
	switch {
	case confident && ranked[0].ID == t.shownTop && !t.tentative:
		return nil, false // the suggestion on screen stands
	case !confident && (t.shownTop != "" && !t.tentative || ranked[0].ID == t.shownTop):
		return nil, false // a confident one stands, or the tentative one is unchanged
	case !confident && (runes < t.opts.TentativeRunes || ranked[0].Score < t.opts.TentativeScore):
		return nil, false
	}
	t.shownTop, t.tentative = ranked[0].ID, !confident
	out := trim(ranked, t.opts.Top)
	for i := range out {
		out[i].Tentative = !confident
	}
	return out, true
}

// Final ranks the complete transcript at hang-up. It always answers (nil only for an empty
// transcript), whatever was shown before.
func (t *Tracker) Final(transcript string) []Suggestion {
	t.mu.Lock()
	defer t.mu.Unlock()
	ranked := t.c.Rank(transcript, t.opts.Top)
	if len(ranked) > 0 {
		t.shownTop = ranked[0].ID
	}
	t.last = strings.TrimSpace(transcript)
	return ranked
}

// Shown returns the top-1 department id currently on the agent's screen, "" before the
// first suggestion.
func (t *Tracker) Shown() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.shownTop
}

// fillers are what callers say before they say anything: a greeting is no reason to
// suggest the hotline's own desk.
var fillers = []string{"喂", "你好", "您好", "我想", "想问", "问一下", "请问", "反映一下", "反映", "咨询一下", "咨询", "嗯", "啊", "呃", "那个", "就是", "这个", "我们", "我", "hello", "hi", "um", "uh", "i want to", "i'd like to", "ask", "report"}

// contentRunes counts a transcript's characters once greetings and filler are taken out.
func contentRunes(transcript string) int {
	s := normalize(transcript)
	for _, f := range fillers {
		s = strings.ReplaceAll(s, f, "")
	}
	return utf8.RuneCountInString(strings.ReplaceAll(s, " ", ""))
}

func trim(s []Suggestion, n int) []Suggestion {
	if len(s) > n {
		return s[:n]
	}
	return s
}
