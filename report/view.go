package report

import (
	"encoding/json"
	"fmt"

	"lianxin/store"
)

// A report is laid out once, as headline figures, charts and tables; the HTML page, the
// workbook and the CSV file are written from the same layout, so the formats never
// disagree.

// cellKind says what a cell's raw value is, for the workbook's number formats.
type cellKind uint8

const (
	textCell   cellKind = iota
	countCell           // an int
	ratioCell           // a float64 in [0, 1], shown as a percentage
	secondCell          // a float64 of seconds, shown as m:ss
	changeCell          // text derived from two other cells: not exported as data
)

// cell is one table cell: Text as shown, Value raw (nil when there is none).
type cell struct {
	Text  string
	Value any
	Kind  cellKind
	Class string
}

// CSS is the cell's class on the page: numbers right-aligned, changes by their trend.
func (c cell) CSS() string {
	switch {
	case c.Class != "":
		return "n " + c.Class
	case c.Kind != textCell:
		return "n"
	}
	return ""
}

func txt(s string) cell { return cell{Text: s, Value: s} }
func cnt(n int) cell    { return cell{Text: num(n), Value: n, Kind: countCell} }

func rat(v float64, ok bool) cell {
	if !ok {
		return cell{Text: pct(0, false), Kind: ratioCell}
	}
	return cell{Text: pct(v, true), Value: v, Kind: ratioCell}
}

func secs(ms int64) cell {
	return cell{Text: dur(ms), Value: float64(ms) / 1000, Kind: secondCell}
}

func (x text) chg(cur, prev int) cell {
	return cell{Text: x.change(cur, prev), Kind: changeCell, Class: trend(cur, prev)}
}

// table is one section of a report.
type table struct {
	Key   string // names the section in the CSV file
	Title string
	Note  string
	Head  []string
	Rows  [][]cell
	Empty string // shown when there are no rows
}

// figure is one headline number with its change.
type figure struct {
	Label, Value, Change, Trend string
}

// chart is one chart: its caption and its spec for charts.js, as JSON.
type chart struct {
	Caption string
	Spec    string
	Wide    bool
}

// chartSpec is what charts.js draws: bars (horizontal when asked), stacked or side by
// side, or a doughnut; each series' role picks its colour from the page's theme.
type chartSpec struct {
	Type       string   `json:"type"` // bar, doughnut
	Labels     []string `json:"labels"`
	Series     []series `json:"series"`
	Horizontal bool     `json:"horizontal,omitempty"`
	Stacked    bool     `json:"stacked,omitempty"`
}

type series struct {
	Label string `json:"label"`
	Role  string `json:"role"` // answered, abandoned, offered, current, previous, survey
	Data  []int  `json:"data"`
}

func specJSON(s chartSpec) string {
	b, _ := json.Marshal(s) // strings and ints always encode
	return string(b)
}

// layout is a report ready to write.
type layout struct {
	Lang      string
	HTMLLang  string
	Title     string
	Period    string
	Compared  string
	Generated string
	Figures   []figure
	Charts    []chart
	Tables    []table
}

func layOut(r *Report) layout {
	x := textFor(r.Lang)
	l := layout{Lang: r.Lang, HTMLLang: map[bool]string{true: "en", false: "zh-CN"}[x.en], Title: x.title(r.Period.Kind), Period: x.period(r.Period),
		Compared:  x.t("compared") + " " + x.period(r.Previous),
		Generated: x.t("generated") + " " + r.Generated.Format("2006-01-02 15:04")}
	l.Figures = x.figures(r)
	l.Charts = x.charts(r)
	l.Tables = append(l.Tables, x.summary(r), x.hours(r))
	if len(r.Days) > 0 {
		l.Tables = append(l.Tables, x.days(r))
	}
	l.Tables = append(l.Tables,
		x.shareTable("department", x.t("departments"), x.t("department"), r.Departments),
		x.shareTable("issue", x.t("issues"), x.t("issue"), r.Issues),
		x.places(r), x.hotspotTable(r), x.repeatTable(r), x.seatTable(r), x.surveyTable(r))
	return l
}

func (x text) figures(r *Report) []figure {
	f, p := r.Figures, r.Prev
	fig := func(key, value string, cur, prev int, show bool) figure {
		out := figure{Label: x.t(key), Value: value}
		if show {
			out.Change, out.Trend = x.change(cur, prev), trend(cur, prev)
		}
		return out
	}
	ratioFig := func(key string, v float64, ok bool, pv float64, pok bool) figure {
		out := figure{Label: x.t(key), Value: pct(v, ok)}
		if ok && pok {
			out.Change, out.Trend = points(v, pv), trend(int(1000*v), int(1000*pv))
		}
		return out
	}
	ar, arOK := f.AnswerRate()
	par, parOK := p.AnswerRate()
	sl, slOK := f.ServiceLevel()
	psl, pslOK := p.ServiceLevel()
	sat, satOK := f.Satisfaction()
	psat, psatOK := p.Satisfaction()
	return []figure{
		fig("offered", num(f.Offered), f.Offered, p.Offered, true),
		fig("answered", num(f.Answered), f.Answered, p.Answered, true),
		fig("abandoned", num(f.Abandoned), f.Abandoned, p.Abandoned, true),
		ratioFig("answer_rate", ar, arOK, par, parOK),
		ratioFig("service_level", sl, slOK, psl, pslOK),
		fig("avg_wait", dur(f.AvgWaitMS), 0, 0, false),
		fig("avg_talk", dur(f.AvgTalkMS), 0, 0, false),
		ratioFig("satisfaction", sat, satOK, psat, psatOK),
		fig("hotspots", num(len(r.Hotspots)), len(r.Hotspots), r.PrevHotspots, true),
		fig("repeat", num(r.Repeats.Callers), r.Repeats.Callers, r.PrevRepeatCallers, true),
	}
}

func (x text) charts(r *Report) []chart {
	hours := make([]string, 24)
	ans, abd := make([]int, 24), make([]int, 24)
	for h, c := range r.Hours {
		hours[h] = fmt.Sprintf("%02d", h)
		ans[h], abd[h] = c.Answered, c.Abandoned
	}
	out := []chart{{Caption: x.t("by_hour"), Wide: true, Spec: specJSON(chartSpec{Type: "bar", Labels: hours, Stacked: true,
		Series: []series{{Label: x.t("answered"), Role: "answered", Data: ans}, {Label: x.t("abandoned"), Role: "abandoned", Data: abd}}})}}
	if len(r.Days) > 0 {
		days := make([]string, len(r.Days))
		ans, abd := make([]int, len(r.Days)), make([]int, len(r.Days))
		for i, d := range r.Days {
			days[i] = d.Day[5:]
			ans[i], abd[i] = d.Answered, d.Abandoned
		}
		out = append(out, chart{Caption: x.t("by_day"), Wide: true, Spec: specJSON(chartSpec{Type: "bar", Labels: days, Stacked: true,
			Series: []series{{Label: x.t("answered"), Role: "answered", Data: ans}, {Label: x.t("abandoned"), Role: "abandoned", Data: abd}}})})
	}
	top := r.Issues[:min(10, len(r.Issues))]
	names, cur, prev := make([]string, len(top)), make([]int, len(top)), make([]int, len(top))
	for i, s := range top {
		names[i], cur[i], prev[i] = x.name(s.Name), s.Calls, s.Prev
	}
	out = append(out, chart{Caption: x.t("issue_dist"), Spec: specJSON(chartSpec{Type: "bar", Labels: names, Horizontal: true,
		Series: []series{{Label: x.t("this_period"), Role: "current", Data: cur}, {Label: x.t("prev_period"), Role: "previous", Data: prev}}})})
	answers, counts := make([]string, len(surveyAnswers)), make([]int, len(surveyAnswers))
	for i, a := range surveyAnswers {
		answers[i], counts[i] = x.t(a), r.Figures.Survey[a]
	}
	out = append(out, chart{Caption: x.t("survey"), Spec: specJSON(chartSpec{Type: "doughnut", Labels: answers,
		Series: []series{{Label: x.t("calls"), Role: "survey", Data: counts}}})})
	return out
}

func (x text) summary(r *Report) table {
	f, p := r.Figures, r.Prev
	ratioRow := func(key string, get func(Figures) (float64, bool)) []cell {
		v, ok := get(f)
		pv, pok := get(p)
		c := cell{Kind: changeCell}
		if ok && pok {
			c.Text, c.Class = points(v, pv), trend(int(1000*v), int(1000*pv))
		}
		return []cell{txt(x.t(key)), rat(v, ok), rat(pv, pok), c}
	}
	countRow := func(key string, cur, prev int) []cell {
		return []cell{txt(x.t(key)), cnt(cur), cnt(prev), x.chg(cur, prev)}
	}
	return table{Key: "summary", Title: x.t("summary"),
		Head: []string{x.t("figure"), x.t("this_period"), x.t("prev_period"), x.t("change")},
		Rows: [][]cell{
			countRow("offered", f.Offered, p.Offered),
			countRow("answered", f.Answered, p.Answered),
			countRow("abandoned", f.Abandoned, p.Abandoned),
			countRow("failed", f.Failed, p.Failed),
			ratioRow("answer_rate", Figures.AnswerRate),
			ratioRow("service_level", Figures.ServiceLevel),
			{txt(x.t("avg_wait")), secs(f.AvgWaitMS), secs(p.AvgWaitMS), {Kind: changeCell}},
			{txt(x.t("avg_talk")), secs(f.AvgTalkMS), secs(p.AvgTalkMS), {Kind: changeCell}},
			ratioRow("satisfaction", Figures.Satisfaction),
			countRow("hotspots", len(r.Hotspots), r.PrevHotspots),
			countRow("repeat", r.Repeats.Callers, r.PrevRepeatCallers),
		}}
}

func (x text) hours(r *Report) table {
	t := table{Key: "hour", Title: x.t("by_hour"),
		Head: []string{x.t("hour"), x.t("offered"), x.t("answered"), x.t("abandoned")}}
	for h, c := range r.Hours {
		t.Rows = append(t.Rows, []cell{txt(fmt.Sprintf("%02d:00", h)), cnt(c.Offered), cnt(c.Answered), cnt(c.Abandoned)})
	}
	return t
}

func (x text) days(r *Report) table {
	t := table{Key: "day", Title: x.t("by_day"),
		Head: []string{x.t("day"), x.t("offered"), x.t("answered"), x.t("abandoned")}}
	for _, d := range r.Days {
		t.Rows = append(t.Rows, []cell{txt(d.Day), cnt(d.Offered), cnt(d.Answered), cnt(d.Abandoned)})
	}
	return t
}

func (x text) shareTable(key, title, what string, ss []Share) table {
	t := table{Key: key, Title: title, Empty: x.t("none"),
		Head: []string{what, x.t("this_period"), x.t("prev_period"), x.t("change")}}
	for _, s := range ss {
		t.Rows = append(t.Rows, []cell{txt(x.name(s.Name)), cnt(s.Calls), cnt(s.Prev), x.chg(s.Calls, s.Prev)})
	}
	return t
}

func (x text) places(r *Report) table {
	t := table{Key: "place", Title: x.t("places"), Empty: x.t("none"),
		Head: []string{x.t("place"), x.t("calls"), x.t("prev_period"), x.t("change"), x.t("main_issue")}}
	for _, p := range r.Places {
		t.Rows = append(t.Rows, []cell{txt(p.Place), cnt(p.Calls), cnt(p.Prev), x.chg(p.Calls, p.Prev), txt(x.name(p.Issue))})
	}
	return t
}

func (x text) hotspotTable(r *Report) table {
	t := table{Key: "hotspot", Title: x.t("hotspots"), Empty: x.t("none"),
		Head: []string{x.t("raised"), x.t("issue"), x.t("place"), x.t("department"), x.t("calls"), x.t("state")}}
	for _, h := range r.Hotspots {
		t.Rows = append(t.Rows, []cell{txt(h.Raised.Format("01-02 15:04")), txt(h.Issue), txt(h.Place),
			txt(x.name(h.DepartmentName)), cnt(h.Calls), txt(x.t(h.State))})
	}
	return t
}

func (x text) repeatTable(r *Report) table {
	t := table{Key: "repeat", Title: x.t("repeat"), Empty: x.t("none"),
		Note: fmt.Sprintf(x.t("repeat_sum"), r.Repeats.Callers, r.Repeats.Calls) + " · " + x.t("repeat_note"),
		Head: []string{x.t("number"), x.t("issue"), x.t("repeats"), x.t("calls"), x.t("first"), x.t("last")}}
	for _, c := range r.Repeats.Top {
		t.Rows = append(t.Rows, []cell{txt(c.Number), txt(x.name(c.Issue)), cnt(c.Repeats), cnt(c.Calls),
			txt(c.First.Format("01-02 15:04")), txt(c.Last.Format("01-02 15:04"))})
	}
	return t
}

func (x text) seatTable(r *Report) table {
	t := table{Key: "seat", Title: x.t("seats"), Empty: x.t("none"),
		Head: []string{x.t("seat"), x.t("answered"), x.t("avg_talk"), x.t("talk_total"), x.t("avg_answer"), x.t("satisfaction"), x.t("rated")}}
	for _, s := range r.Seats {
		f := Figures{DayStats: store.DayStats{Survey: s.Survey}}
		sat, ok := f.Satisfaction()
		t.Rows = append(t.Rows, []cell{txt(s.Seat), cnt(s.Answered), secs(s.AvgTalkMS), secs(s.TalkMS), secs(s.AvgAnswerMS),
			rat(sat, ok), cnt(f.Rated())})
	}
	return t
}

func (x text) surveyTable(r *Report) table {
	t := table{Key: "survey", Title: x.t("survey"),
		Head: []string{x.t("answer"), x.t("calls"), x.t("share"), x.t("prev_period"), x.t("change")}}
	total := 0
	for _, a := range surveyAnswers {
		total += r.Figures.Survey[a]
	}
	for _, a := range surveyAnswers {
		n, pn := r.Figures.Survey[a], r.Prev.Survey[a]
		share, ok := ratio(n, total)
		t.Rows = append(t.Rows, []cell{txt(x.t(a)), cnt(n), rat(share, ok), cnt(pn), x.chg(n, pn)})
	}
	return t
}
