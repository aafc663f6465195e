// Package report makes the hotline's analysis reports (数据分析报告): daily, weekly and
// monthly figures from the store — calls offered, answered and abandoned, the service
// level, waits and talk, calls by hour, departments and issue types against the period
// before, the places most called about, hotspots raised, repeat callers, each seat's work
// and the satisfaction survey — as an HTML page with charts, a PDF printed from it by
// headless Chromium, an XLSX workbook and a CSV file. A Scheduler writes them to a folder
// after each day, week and month ends and may tell a group robot.
//
// Callers' numbers appear only among the repeat callers, masked unless the configuration
// says otherwise; places pass through package redact.
//
// The package imports the leaves store and redact.
package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"lianxin/redact"
	"lianxin/store"
)

// Source is what a report is read from: the store's day figures and its analytics.
type Source interface {
	DayStats(ctx context.Context, from, to time.Time) (store.DayStats, error)
	store.Analytics
}

// Label is a name in both of the pages' languages.
type Label struct {
	ZH string `json:"zh"`
	EN string `json:"en,omitempty"`
}

// Names are the departments' and issue types' names by id; an id without one is shown
// as it is.
type Names struct {
	Departments map[string]Label
	Issues      map[string]Label
}

// RepeatWindow is how soon a second call from one number about one issue type counts as
// a repeat.
const RepeatWindow = 7 * 24 * time.Hour

// Limits on a report's lists, so that a month of calls stays one readable page.
const (
	topPlaces  = 10
	topRepeats = 20
)

// Report is one period's analysis.
type Report struct {
	Period    Period    `json:"period"`
	Previous  Period    `json:"previous_period"`
	Generated time.Time `json:"generated"`
	Lang      string    `json:"lang"`
	Figures   Figures   `json:"figures"`
	Prev      Figures   `json:"previous"`
	// Hours are the calls by hour of day, summed over the period's days.
	Hours [24]Count `json:"hours"`
	// Days are the calls by day (weekly and monthly reports).
	Days        []DayCount `json:"days,omitempty"`
	Departments []Share    `json:"departments"`
	Issues      []Share    `json:"issues"`
	Places      []Place    `json:"places"`
	Hotspots    []Hotspot  `json:"hotspots"`
	Repeats     Repeats    `json:"repeats"`
	// PrevHotspots and PrevRepeatCallers are the period before's counts.
	PrevHotspots      int                 `json:"previous_hotspots"`
	PrevRepeatCallers int                 `json:"previous_repeat_callers"`
	Seats             []store.SeatFigures `json:"seats"`
}

// Figures are a period's headline numbers.
type Figures struct {
	store.DayStats
}

func ratio(n, of int) (float64, bool) {
	if of == 0 {
		return 0, false
	}
	return float64(n) / float64(of), true
}

// AnswerRate is answered of offered.
func (f Figures) AnswerRate() (float64, bool) { return ratio(f.Answered, f.Offered) }

// ServiceLevel is answered within 20 s of offered, as the wallboard shows it.
func (f Figures) ServiceLevel() (float64, bool) { return ratio(f.AnsweredIn20s, f.Offered) }

// Rated is the survey answers that rated the call.
func (f Figures) Rated() int {
	return f.Survey["satisfied"] + f.Survey["basic"] + f.Survey["dissatisfied"]
}

// Satisfaction (满意率) is satisfied or fairly satisfied, of the callers who rated the call.
func (f Figures) Satisfaction() (float64, bool) {
	return ratio(f.Survey["satisfied"]+f.Survey["basic"], f.Rated())
}

// Count is the calls of one bucket.
type Count struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
}

// DayCount is one day's calls.
type DayCount struct {
	Day string `json:"day"` // YYYY-MM-DD
	Count
}

// Share is a department's or issue type's calls, against the period before.
type Share struct {
	ID    string `json:"id"`
	Name  Label  `json:"name"`
	Calls int    `json:"calls"`
	Prev  int    `json:"previous"`
}

// Place is a place called about however its calls' drafts spelled it, shown as most of
// them did, with its calls in the period before and the issue type most calls about it had.
type Place struct {
	Place string `json:"place"`
	Calls int    `json:"calls"`
	Prev  int    `json:"previous"`
	Issue Label  `json:"issue"`
}

// Hotspot is a hotspot alert raised in the period.
type Hotspot struct {
	store.HotspotRaised
	DepartmentName Label `json:"department_name"`
}

// Repeats are the period's repeat callers.
type Repeats struct {
	Callers int            `json:"callers"` // numbers (per issue type) that called again
	Calls   int            `json:"calls"`   // calls that repeated an earlier one
	Top     []RepeatCaller `json:"top"`
}

// RepeatCaller is one number that called again about one issue type.
type RepeatCaller struct {
	Number  string    `json:"number"` // masked unless the builder's Redact is off
	Issue   Label     `json:"issue"`
	Repeats int       `json:"repeats"`
	Calls   int       `json:"calls"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Builder reads reports from a store.
type Builder struct {
	Source Source
	Names  Names
	// Places groups the spellings of one place; nil groups them as spelled.
	Places PlaceGrouper
	// Redact masks callers' numbers and passes places through package redact.
	Redact bool
	Now    func() time.Time
}

// Build reads the report of p. Its text is in lang ("zh" or "en").
func (b *Builder) Build(ctx context.Context, p Period, lang string) (*Report, error) {
	if lang != "en" {
		lang = "zh"
	}
	r := &Report{Period: p, Previous: p.Previous(), Generated: b.Now().In(p.From.Location()), Lang: lang}
	var err error
	if r.Figures.DayStats, err = b.Source.DayStats(ctx, p.From, p.To); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Prev.DayStats, err = b.Source.DayStats(ctx, r.Previous.From, r.Previous.To); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := b.arrivals(ctx, r); err != nil {
		return nil, err
	}
	if err := b.breakdown(ctx, r); err != nil {
		return nil, err
	}
	if r.Seats, err = b.Source.SeatFigures(ctx, p.From, p.To); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := b.hotspots(ctx, r); err != nil {
		return nil, err
	}
	if err := b.repeats(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// arrivals groups the store's quarter hours into the local hours and days of the period.
func (b *Builder) arrivals(ctx context.Context, r *Report) error {
	as, err := b.Source.Arrivals(ctx, r.Period.From, r.Period.To)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	loc := r.Period.From.Location()
	days := map[string]*Count{}
	if r.Period.Kind != Daily {
		for d := r.Period.From; d.Before(r.Period.To); d = d.AddDate(0, 0, 1) {
			r.Days = append(r.Days, DayCount{Day: d.Format(time.DateOnly)})
		}
		for i := range r.Days {
			days[r.Days[i].Day] = &r.Days[i].Count
		}
	}
	for _, a := range as {
		t := a.Start.In(loc)
		add(&r.Hours[t.Hour()], a)
		if c := days[t.Format(time.DateOnly)]; c != nil {
			add(c, a)
		}
	}
	return nil
}

func add(c *Count, a store.Arrival) {
	c.Offered += a.Offered
	c.Answered += a.Answered
	c.Abandoned += a.Abandoned
}

func (b *Builder) breakdown(ctx context.Context, r *Report) error {
	cur, err := b.Source.Breakdown(ctx, r.Period.From, r.Period.To, 0)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	prev, err := b.Source.Breakdown(ctx, r.Previous.From, r.Previous.To, 0)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	r.Departments = shares(cur.Departments, prev.Departments, b.Names.Departments)
	r.Issues = shares(cur.Issues, prev.Issues, b.Names.Issues)
	return b.places(ctx, r)
}

// shares lists every id of either period, most calls first.
func shares(cur, prev map[string]int, names map[string]Label) []Share {
	out := []Share{}
	for id, n := range cur {
		out = append(out, Share{ID: id, Name: label(names, id), Calls: n, Prev: prev[id]})
	}
	for id, n := range prev {
		if _, ok := cur[id]; !ok {
			out = append(out, Share{ID: id, Name: label(names, id), Prev: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		if out[i].Prev != out[j].Prev {
			return out[i].Prev > out[j].Prev
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func label(names map[string]Label, id string) Label {
	if l, ok := names[id]; ok && l.ZH != "" {
		return l
	}
	return Label{ZH: id, EN: id}
}

func (b *Builder) hotspots(ctx context.Context, r *Report) error {
	hs, err := b.Source.HotspotsRaised(ctx, r.Period.From, r.Period.To)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	prev, err := b.Source.HotspotsRaised(ctx, r.Previous.From, r.Previous.To)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	r.PrevHotspots = len(prev)
	r.Hotspots = make([]Hotspot, 0, len(hs))
	for _, h := range hs {
		h.Place = b.maskText(h.Place)
		h.Raised = h.Raised.In(r.Period.From.Location())
		r.Hotspots = append(r.Hotspots, Hotspot{HotspotRaised: h, DepartmentName: label(b.Names.Departments, h.Department)})
	}
	return nil
}

func (b *Builder) repeats(ctx context.Context, r *Report) error {
	rs, err := b.Source.RepeatCallers(ctx, r.Period.From, r.Period.To, RepeatWindow)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	prev, err := b.Source.RepeatCallers(ctx, r.Previous.From, r.Previous.To, RepeatWindow)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	r.PrevRepeatCallers = len(prev)
	r.Repeats = Repeats{Callers: len(rs), Top: []RepeatCaller{}}
	loc := r.Period.From.Location()
	for i, c := range rs {
		r.Repeats.Calls += c.Repeats
		if i >= topRepeats {
			continue
		}
		n := c.Number
		if b.Redact {
			n = MaskNumber(n)
		}
		r.Repeats.Top = append(r.Repeats.Top, RepeatCaller{Number: n, Issue: label(b.Names.Issues, c.Issue),
			Repeats: c.Repeats, Calls: c.Calls, First: c.First.In(loc), Last: c.Last.In(loc)})
	}
	return nil
}

func (b *Builder) maskText(s string) string {
	if !b.Redact {
		return s
	}
	masked, _ := redact.Redact(s)
	return masked
}

// MaskNumber hides the middle of a caller's number as the hotline prints it: the first
// three and the last four digits of a number of ten or more (138****8000), else all but
// the last two.
func MaskNumber(n string) string {
	r := []rune(n)
	keepHead, keepTail := 0, 2
	if len(r) >= 10 {
		keepHead, keepTail = 3, 4
	}
	for i := keepHead; i < len(r)-keepTail; i++ {
		r[i] = '*'
	}
	return string(r)
}
