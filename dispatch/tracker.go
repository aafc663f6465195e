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
	MinScore float64 // top-1 probability needed to suggest at all (default 0.6)
	Margin   float64 // lead of top-1 over top-2 needed to suggest or to change (default 0.15)
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
}

// Tracker follows one call's caller transcript as it grows and decides when the agent's
// suggestion should change: the first time a ranking is confident, and afterwards only when
// a different department takes the lead by a clear margin. Partials that merely refine the
// same ranking say nothing. It is safe for concurrent use, though one call feeds it in order.
type Tracker struct {
	c    *Classifier
	opts TrackerOptions

	mu       sync.Mutex
	last     string // transcript of the last Update, to skip repeats
	shownTop string // top-1 id of the last emitted suggestion
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
	if transcript == t.last || contentRunes(transcript) < t.opts.MinRunes {
		return nil, false
	}
	t.last = transcript
	ranked := t.c.Rank(transcript, max(t.opts.Top, 2))
	if len(ranked) < 2 || ranked[0].ID == t.shownTop {
		return nil, false
	}
	if ranked[0].Score < t.opts.MinScore || ranked[0].Score-ranked[1].Score < t.opts.Margin {
		return nil, false
	}
	t.shownTop = ranked[0].ID
	return trim(ranked, t.opts.Top), true
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
