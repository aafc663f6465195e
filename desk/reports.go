package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"lianxin/store"
)

// Analysis reports (数据分析报告) for admins, made by the gateway's reports through
// Options.Report, and the wallboard's charts of the day.

// ReportFile is an analysis report in one format.
type ReportFile struct {
	Name        string // e.g. daily-2026-11-24.xlsx
	ContentType string
	Body        []byte
}

// Errors Options.Report wraps: a request it refuses (a period, date or format that does
// not exist) is answered 400, a report it cannot make here (a PDF without a browser) 503.
var (
	ErrBadReport         = errors.New("bad report request")
	ErrReportUnavailable = errors.New("report unavailable")
)

// reportRoutes mounts the reports page and its API.
func (d *Desk) reportRoutes(mux *http.ServeMux, page func(string) http.HandlerFunc) {
	mux.HandleFunc("GET /admin/reports", page("reports.html"))
	mux.HandleFunc("GET /api/reports", d.authed(d.report))
}

// report answers GET /api/reports?period=daily|weekly|monthly&date=YYYY-MM-DD&format=
// fragment|html|pdf|xlsx|csv|json&lang=zh|en for admins. The date defaults to today; files
// come as attachments, the fragment and JSON for the page.
func (d *Desk) report(w http.ResponseWriter, r *http.Request, s Session) {
	if !s.Admin() {
		writeError(w, http.StatusForbidden, "admins only")
		return
	}
	if d.opts.Report == nil {
		writeError(w, http.StatusNotFound, "reports are not configured")
		return
	}
	q := r.URL.Query()
	period, date, format := q.Get("period"), q.Get("date"), q.Get("format")
	if period == "" {
		period = "daily"
	}
	if date == "" {
		date = d.today().Format(time.DateOnly)
	}
	if format == "" {
		format = "fragment"
	}
	f, err := d.opts.Report(r.Context(), period, date, format, q.Get("lang"))
	switch {
	case errors.Is(err, ErrBadReport):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, ErrReportUnavailable):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case r.Context().Err() != nil:
		return // the admin went away
	case err != nil:
		d.serverError(w, fmt.Errorf("report: %w", err))
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	if format != "fragment" && format != "json" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, strings.ReplaceAll(f.Name, `"`, "")))
	}
	_, _ = w.Write(f.Body)
}

// hourCount is one hour's calls today, for the wallboard's chart.
type hourCount struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
}

// namedCount is a department's or an issue type's calls today, with its names for the
// wallboard.
type namedCount struct {
	Dept
	Calls int `json:"calls"`
}

// namedCounts names each id counted (an id the list does not know is its own name), most
// calls first, then by id.
func namedCounts(list func() []Dept, counts map[string]int) []namedCount {
	names := map[string]Dept{}
	if list != nil {
		for _, x := range list() {
			names[x.ID] = x
		}
	}
	out := make([]namedCount, 0, len(counts))
	for id, n := range counts {
		x, ok := names[id]
		if !ok {
			x = Dept{ID: id, Name: id}
		}
		out = append(out, namedCount{Dept: x, Calls: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// todayCharts adds the day's calls by hour and by issue type to the wallboard's figures,
// when the store keeps analytics.
func (d *Desk) todayCharts(ctx context.Context, from, to time.Time, out map[string]any) error {
	a, ok := d.st.(store.Analytics)
	if !ok {
		return nil
	}
	arrivals, err := a.Arrivals(ctx, from, to)
	if err != nil {
		return err
	}
	var hours [24]hourCount
	for _, x := range arrivals {
		h := &hours[x.Start.In(from.Location()).Hour()]
		h.Offered += x.Offered
		h.Answered += x.Answered
		h.Abandoned += x.Abandoned
	}
	b, err := a.Breakdown(ctx, from, to, 0)
	if err != nil {
		return err
	}
	issues := namedCounts(d.opts.IssueTypes, b.Issues)
	out["hours"], out["issues"] = hours, issues
	return nil
}
