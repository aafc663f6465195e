package report

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadRequest marks a report asked for with a period or format that does not exist; its
// text says which, for the user.
var ErrBadRequest = errors.New("bad report request")

// Kind is how long a report's period is.
type Kind string

// The report kinds.
const (
	Daily   Kind = "daily"   // a calendar day
	Weekly  Kind = "weekly"  // an ISO week, Monday to Sunday
	Monthly Kind = "monthly" // a calendar month
)

// Kinds are the report kinds, shortest first.
var Kinds = []Kind{Daily, Weekly, Monthly}

// ParseKind checks a kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: period %q (want daily, weekly or monthly)", ErrBadRequest, s)
}

// Period is the days a report covers: [From, To) in the report's time zone.
type Period struct {
	Kind Kind      `json:"kind"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// PeriodOf is the period of kind k that contains t, in t's time zone.
func PeriodOf(k Kind, t time.Time) Period {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	switch k {
	case Weekly:
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		from := day.AddDate(0, 0, -back)
		return Period{Kind: k, From: from, To: from.AddDate(0, 0, 7)}
	case Monthly:
		from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
		return Period{Kind: k, From: from, To: from.AddDate(0, 1, 0)}
	}
	return Period{Kind: Daily, From: day, To: day.AddDate(0, 0, 1)}
}

// ParsePeriod is the period of kind that contains date (YYYY-MM-DD) in loc.
func ParsePeriod(kind, date string, loc *time.Location) (Period, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return Period{}, err
	}
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return Period{}, fmt.Errorf("%w: date %q (want YYYY-MM-DD)", ErrBadRequest, date)
	}
	return PeriodOf(k, day), nil
}

// Previous is the period of the same kind just before p.
func (p Period) Previous() Period { return PeriodOf(p.Kind, p.From.AddDate(0, 0, -1)) }

// Name names the period in file names: 2026-11-23, 2026-W48, 2026-11.
func (p Period) Name() string {
	switch p.Kind {
	case Weekly:
		y, w := p.From.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case Monthly:
		return p.From.Format("2006-01")
	}
	return p.From.Format(time.DateOnly)
}

// String is the period for people: its kind and days.
func (p Period) String() string {
	if p.Kind == Daily {
		return string(p.Kind) + " " + p.Name()
	}
	return fmt.Sprintf("%s %s (%s – %s)", p.Kind, p.Name(), p.From.Format(time.DateOnly),
		p.To.AddDate(0, 0, -1).Format(time.DateOnly))
}
