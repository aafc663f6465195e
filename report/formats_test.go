package report

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"lianxin/internal/testpeer"
)

func mk(t *testing.T, r *Reports, kind, format, lang string) File {
	t.Helper()
	f, err := r.Make(context.Background(), kind, "2026-11-24", format, lang)
	require.NoError(t, err)
	require.NotEmpty(t, f.Body)
	return f
}

func TestHTMLReport(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	f := mk(t, r, "daily", "html", "zh")
	require.Equal(t, "daily-2026-11-24.html", f.Name)
	require.Equal(t, "text/html; charset=utf-8", f.ContentType)
	page := html.UnescapeString(string(f.Body))
	containsAll(t, page,
		`<html lang="zh-CN">`, "12345 热线数据分析报告 · 日报", "2026-11-24（周二）", "对比上期 2026-11-23（周一）",
		"呼入", "20秒接通率", "75.0%", "水务局", "住建局", "停水", "电梯故障", "+2 (+200.0%)", "阳光花园3号楼",
		"138****8001", "坐席绩效", "seat-01", "满意度回访", "基本满意",
		"Chart.js v4.6.1", "LXCharts", "@media print")
	require.NotContains(t, page, "13800138001", "a repeat caller's number is masked")
	require.NotContains(t, page, "13912345678", "a number said as part of a place is masked")
	require.Equal(t, 3, strings.Count(page, "<canvas data-chart="), "calls by hour, issue types, survey")
	require.NotContains(t, page, `src="/static`, "a report file loads nothing")

	weekly := html.UnescapeString(string(mk(t, r, "weekly", "fragment", "en").Body))
	require.True(t, strings.HasPrefix(weekly, `<article class="report" lang="en"`), "a fragment is the report alone")
	containsAll(t, weekly, "hotline analysis report — weekly report", "week 48 of 2026", "Calls by day", "Water", "water outage")
	require.Equal(t, 4, strings.Count(weekly, "<canvas data-chart="), "and calls by day")
	require.NotContains(t, weekly, "Chart.js v4.6.1")
}

// containsAll fails the test for each of want that text lacks, without printing text.
func containsAll(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q", w)
		}
	}
}

func TestRedactOff(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: false})
	containsAll(t, string(mk(t, r, "daily", "html", "zh").Body), "13800138001", "13912345678")
}

func TestCSVReport(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	f := mk(t, r, "daily", "csv", "zh")
	require.Equal(t, "text/csv; charset=utf-8", f.ContentType)
	body, ok := bytes.CutPrefix(f.Body, []byte("\ufeff"))
	require.True(t, ok, "a byte order mark for spreadsheets")
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"section", "item", "measure", "value"}, rows[0])
	has := func(row ...string) {
		t.Helper()
		for _, r := range rows {
			if strings.Join(r, "|") == strings.Join(row, "|") {
				return
			}
		}
		require.Failf(t, "row missing", "%q not in the CSV", row)
	}
	has("summary", "呼入", "本期", "6")
	has("summary", "呼入", "上期", "4")
	has("summary", "20秒接通率", "本期", "0.5")
	has("summary", "平均通话", "本期", "192")
	has("hour", "14:00", "呼入", "3")
	has("department", "水务局", "上期", "1")
	has("issue", "电梯故障", "本期", "2")
	has("repeat", "138****8001", "来电", "2")
	has("hotspot", "11-24 14:40", "来电", "3")
	has("seat", "seat-01", "满意率", "0.5")
	has("survey", "满意", "来电", "2")
	has("place", "新建路 *********** 门口", "来电", "3")
	for _, r := range rows {
		require.NotEqual(t, "变化", r[2], "changes follow from the values: not exported")
	}
}

func TestXLSXReport(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	f := mk(t, r, "weekly", "xlsx", "zh")
	require.Equal(t, "weekly-2026-W48.xlsx", f.Name)
	x, err := excelize.OpenReader(bytes.NewReader(f.Body))
	require.NoError(t, err)
	defer x.Close()
	require.Equal(t, []string{"概览", "分时段来电", "每日来电", "部门派单", "事项", "来电集中地点", "热点预警", "重复来电", "坐席绩效", "满意度回访"},
		x.GetSheetList())
	title, err := x.GetCellValue("概览", "A1")
	require.NoError(t, err)
	require.Equal(t, "12345 热线数据分析报告 · 周报", title)
	rows, err := x.GetRows("概览")
	require.NoError(t, err)
	require.Equal(t, []string{"指标", "本期", "上期", "变化"}, rows[4])
	require.Equal(t, []string{"呼入", "10", "0", "+10 (新增)"}, rows[5])
	typ, err := x.GetCellType("概览", "B6")
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeSharedString, typ, "counts are numbers")
	raw, err := x.GetCellValue("概览", "B10", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.Equal(t, "0.9", raw, "the answer rate is a number, shown as a percentage")

	days, err := x.GetRows("每日来电")
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-24", "6", "5", "1"}, days[2])
	repeat, err := x.GetRows("重复来电")
	require.NoError(t, err)
	require.Equal(t, "138****8001", repeat[2][0], "under the note and the header")

	z, err := zip.NewReader(bytes.NewReader(f.Body), int64(len(f.Body)))
	require.NoError(t, err)
	charts := 0
	for _, zf := range z.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			charts++
		}
	}
	require.Equal(t, 1, charts, "the hours' chart")
}

func TestJSONReport(t *testing.T) {
	r := newReports(t, seeded(t), Config{Redact: true})
	var got struct {
		Period  struct{ Kind string }
		Figures struct{ Offered int }
		Repeats struct {
			Top []struct{ Number string }
		}
	}
	require.NoError(t, json.Unmarshal(mk(t, r, "daily", "json", "en").Body, &got))
	require.Equal(t, "daily", got.Period.Kind)
	require.Equal(t, 6, got.Figures.Offered)
	require.Equal(t, "138****8001", got.Repeats.Top[0].Number)
}

func TestBadRequests(t *testing.T) {
	r := newReports(t, seeded(t), Config{})
	for _, c := range [][3]string{{"hourly", "2026-11-24", "html"}, {"daily", "24/11/2026", "html"}, {"daily", "2026-11-24", "docx"}} {
		_, err := r.Make(context.Background(), c[0], c[1], c[2], "zh")
		require.ErrorIs(t, err, ErrBadRequest, "%v", c)
	}
	_, err := r.Make(context.Background(), "daily", "2026-11-24", "pdf", "zh")
	require.ErrorIs(t, err, ErrNoPDF, "no browser configured")
}

// chromium returns Debian's Chromium for PDFs, or stops the test.
func chromium(t *testing.T) string {
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		testpeer.Unavailable(t, "needs %s (Debian package chromium): %v", path, err)
	}
	return path
}

func TestPDFReport(t *testing.T) {
	testpeer.Require(t, "pdftotext")
	r := newReports(t, seeded(t), Config{Redact: true, Chromium: chromium(t)})
	f := mk(t, r, "daily", "pdf", "zh")
	require.Equal(t, "application/pdf", f.ContentType)
	require.True(t, bytes.HasPrefix(f.Body, []byte("%PDF-")))
	path := filepath.Join(t.TempDir(), f.Name)
	require.NoError(t, os.WriteFile(path, f.Body, 0o600))
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	containsAll(t, text, "12345 热线数据分析报告 · 日报", "2026-11-24（周二）", "水务局", "电梯故障", "138****8001", "坐席绩效")
	info, err := exec.Command("pdfinfo", path).CombinedOutput()
	require.NoError(t, err, "%s", info)
	require.Regexp(t, `Page size:.*\(A4\)`, string(info))
}
