package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// words are a report's fixed texts in both languages.
var words = map[string][2]string{
	"title":         {"12345 热线数据分析报告", "12345 hotline analysis report"},
	"daily":         {"日报", "daily report"},
	"weekly":        {"周报", "weekly report"},
	"monthly":       {"月报", "monthly report"},
	"compared":      {"对比上期", "compared with"},
	"generated":     {"生成于", "generated"},
	"offered":       {"呼入", "Offered"},
	"answered":      {"接通", "Answered"},
	"abandoned":     {"放弃", "Abandoned"},
	"failed":        {"失败", "Failed"},
	"answer_rate":   {"接通率", "Answer rate"},
	"service_level": {"20秒接通率", "Answered in 20 s"},
	"avg_wait":      {"平均等待", "Average wait"},
	"avg_talk":      {"平均通话", "Average talk"},
	"satisfaction":  {"满意率", "Satisfaction"},
	"hotspots":      {"热点预警", "Hotspot alerts"},
	"repeat":        {"重复来电", "Repeat callers"},
	"by_hour":       {"分时段来电", "Calls by hour"},
	"by_day":        {"每日来电", "Calls by day"},
	"issue_dist":    {"事项分布", "Issue types"},
	"departments":   {"部门派单", "Departments"},
	"department":    {"部门", "Department"},
	"issues":        {"事项", "Issue types"},
	"issue":         {"事项", "Issue type"},
	"this_period":   {"本期", "This period"},
	"prev_period":   {"上期", "Previous"},
	"change":        {"变化", "Change"},
	"new":           {"新增", "new"},
	"places":        {"来电集中地点", "Places most called about"},
	"place":         {"地点", "Place"},
	"calls":         {"来电", "Calls"},
	"main_issue":    {"主要事项", "Main issue type"},
	"raised":        {"预警时间", "Raised"},
	"state":         {"状态", "State"},
	"number":        {"号码", "Number"},
	"repeats":       {"重复次数", "Repeats"},
	"first":         {"首次", "First"},
	"last":          {"最近", "Last"},
	"repeat_note":   {"同一号码7天内就同一事项再次来电", "one number calling again about one issue type within 7 days"},
	"repeat_sum":    {"%d 个号码重复来电 %d 次", "%d numbers called again %d times"},
	"seats":         {"坐席绩效", "Seat performance"},
	"seat":          {"坐席", "Seat"},
	"talk_total":    {"通话总时长", "Total talk"},
	"avg_answer":    {"平均应答", "Average answer"},
	"rated":         {"评价数", "Rated"},
	"survey":        {"满意度回访", "Satisfaction survey"},
	"answer":        {"评价", "Answer"},
	"share":         {"占比", "Share"},
	"satisfied":     {"满意", "Satisfied"},
	"basic":         {"基本满意", "Fairly satisfied"},
	"dissatisfied":  {"不满意", "Dissatisfied"},
	"no_answer":     {"未评价", "No answer"},
	"none":          {"无", "None"},
	"grown":         {"增长", "growing"},
	"acknowledged":  {"已确认", "acknowledged"},
	"closed":        {"已关闭", "closed"},
	"expired":       {"已过期", "expired"},
	"hour":          {"时段", "Hour"},
	"day":           {"日期", "Day"},
	"summary":       {"概览", "Summary"},
	"figure":        {"指标", "Figure"},
}

// surveyAnswers are the survey's answers in the order a report lists them.
var surveyAnswers = []string{"satisfied", "basic", "dissatisfied", "no_answer"}

// text is a report's wording in one language.
type text struct{ en bool }

func textFor(lang string) text { return text{en: lang == "en"} }

// t is the fixed text of key; an unknown key is itself.
func (x text) t(key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if x.en {
		return w[1]
	}
	return w[0]
}

// name is a label in the language, the Chinese one when there is no English.
func (x text) name(l Label) string {
	if x.en && l.EN != "" {
		return l.EN
	}
	return l.ZH
}

func (x text) title(k Kind) string {
	if x.en {
		return words["title"][1] + " — " + x.t(string(k))
	}
	return words["title"][0] + " · " + x.t(string(k))
}

// period is how a period reads in a heading: 2026-11-23（周一）, 2026 年第 48 周…
func (x text) period(p Period) string {
	last := p.To.AddDate(0, 0, -1)
	switch {
	case p.Kind == Daily && x.en:
		return p.From.Format("Monday 2 January 2006")
	case p.Kind == Daily:
		return p.From.Format(time.DateOnly) + "（" + weekdayZH(p.From.Weekday()) + "）"
	case p.Kind == Weekly && x.en:
		y, w := p.From.ISOWeek()
		return fmt.Sprintf("week %d of %d, %s – %s", w, y, p.From.Format("2 Jan"), last.Format("2 Jan 2006"))
	case p.Kind == Weekly:
		y, w := p.From.ISOWeek()
		return fmt.Sprintf("%d 年第 %d 周（%s 至 %s）", y, w, p.From.Format("1月2日"), last.Format("1月2日"))
	case x.en:
		return p.From.Format("January 2006")
	}
	return p.From.Format("2006 年 1 月")
}

func weekdayZH(d time.Weekday) string {
	return []string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[d]
}

// num writes a count with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pct writes a ratio as a percentage with one decimal, or "–" when there is none.
func pct(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(math.Round(v*1000)/10, 'f', 1, 64) + "%"
}

// dur writes milliseconds as m:ss, or h:mm:ss from an hour.
func dur(ms int64) string {
	s := (ms + 500) / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// change writes the move from prev to cur: +12 (+15.0%), −3 (−20.0%), or "new".
func (x text) change(cur, prev int) string {
	d := cur - prev
	switch {
	case d == 0:
		return "0"
	case prev == 0:
		return "+" + num(d) + " (" + x.t("new") + ")"
	}
	sign := "+"
	if d < 0 {
		sign = "−"
		d = -d
	}
	return fmt.Sprintf("%s%s (%s%.1f%%)", sign, num(d), sign, 100*float64(d)/float64(prev))
}

// points writes the move between two ratios in percentage points: +2.5 pt, −16.7 pt.
func points(cur, prev float64) string {
	d := math.Round(1000*(cur-prev)) / 10
	switch {
	case d > 0:
		return fmt.Sprintf("+%.1f pt", d)
	case d < 0:
		return fmt.Sprintf("−%.1f pt", -d)
	}
	return "0 pt"
}

// trend is the class of a change: up, down or flat.
func trend(cur, prev int) string {
	switch {
	case cur > prev:
		return "up"
	case cur < prev:
		return "down"
	}
	return "flat"
}
