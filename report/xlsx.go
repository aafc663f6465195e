package report

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The workbook: one sheet per table of the report, the summary first with the report's
// title and period above it; counts, percentages and durations are numbers with number
// formats, so they sum and sort; the hours sheet has its chart.

// sheetName makes a table's title a valid, unique sheet name (31 characters, none of
// []:*?/\).
func sheetName(title string, used map[string]bool) string {
	r := []rune(strings.Map(func(c rune) rune {
		if strings.ContainsRune(`[]:*?/\`, c) {
			return ' '
		}
		return c
	}, title))
	name := string(r[:min(len(r), 28)])
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s %d", string(r[:min(len(r), 26)]), i)
	}
	used[name] = true
	return name
}

type xlsxStyles struct{ head, count, ratio, seconds int }

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	var err error
	minutes, percent := "[m]:ss", "0.0%"
	for _, st := range []struct {
		dst   *int
		style excelize.Style
	}{
		{&s.head, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F0"}}}},
		{&s.count, excelize.Style{NumFmt: 3}}, // #,##0
		{&s.ratio, excelize.Style{CustomNumFmt: &percent}},
		{&s.seconds, excelize.Style{CustomNumFmt: &minutes}},
	} {
		if *st.dst, err = f.NewStyle(&st.style); err != nil {
			return s, err
		}
	}
	return s, nil
}

func writeXLSX(l layout) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLSXStyles(f)
	if err != nil {
		return nil, fmt.Errorf("report: xlsx: %w", err)
	}
	used := map[string]bool{}
	for i, t := range l.Tables {
		name := sheetName(t.Title, used)
		if i == 0 {
			err = f.SetSheetName("Sheet1", name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err == nil {
			err = writeSheet(f, name, l, t, st, i == 0)
		}
		if err == nil && t.Key == "hour" {
			err = hourChart(f, name, t)
		}
		if err != nil {
			return nil, fmt.Errorf("report: xlsx %s: %w", t.Key, err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, fmt.Errorf("report: xlsx: %w", err)
	}
	return b.Bytes(), nil
}

// writeSheet writes t from its first row (the summary sheet from its fifth, under the
// report's title, period and time of making).
func writeSheet(f *excelize.File, sheet string, l layout, t table, st xlsxStyles, first bool) error {
	row := 1
	if first {
		for _, line := range []string{l.Title, l.Period, l.Compared + " · " + l.Generated} {
			if err := f.SetCellStr(sheet, fmt.Sprintf("A%d", row), line); err != nil {
				return err
			}
			row++
		}
		row++
	}
	if t.Note != "" {
		if err := f.SetCellStr(sheet, fmt.Sprintf("A%d", row), t.Note); err != nil {
			return err
		}
		row++
	}
	for j, h := range t.Head {
		ref, _ := excelize.CoordinatesToCellName(j+1, row) // columns and rows start at 1
		if err := f.SetCellStr(sheet, ref, h); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(t.Head), row)
	if err := f.SetCellStyle(sheet, "A"+fmt.Sprint(row), last, st.head); err != nil {
		return err
	}
	for _, cells := range t.Rows {
		row++
		for j, c := range cells {
			ref, _ := excelize.CoordinatesToCellName(j+1, row)
			if err := setCell(f, sheet, ref, c, st); err != nil {
				return err
			}
		}
	}
	if err := f.SetColWidth(sheet, "A", "A", 22); err != nil {
		return err
	}
	end, _ := excelize.ColumnNumberToName(max(2, len(t.Head)))
	return f.SetColWidth(sheet, "B", end, 14)
}

func setCell(f *excelize.File, sheet, ref string, c cell, st xlsxStyles) error {
	style := 0
	var err error
	switch v := c.Value.(type) {
	case int:
		err, style = f.SetCellInt(sheet, ref, int64(v)), st.count
	case float64:
		if c.Kind == secondCell {
			// a spreadsheet's durations are fractions of a day
			err, style = f.SetCellFloat(sheet, ref, v/86400, -1, 64), st.seconds
		} else {
			err, style = f.SetCellFloat(sheet, ref, v, -1, 64), st.ratio
		}
	default:
		// text stays text: a place that starts like a formula is not run
		err = f.SetCellStr(sheet, ref, c.Text)
	}
	if err == nil && style != 0 {
		err = f.SetCellStyle(sheet, ref, ref, style)
	}
	return err
}

// hourChart puts a stacked column chart of answered and abandoned calls beside the hours.
func hourChart(f *excelize.File, sheet string, t table) error {
	n := len(t.Rows) + 1
	ser := func(col string) excelize.ChartSeries {
		return excelize.ChartSeries{Name: fmt.Sprintf("'%s'!$%s$1", sheet, col),
			Categories: fmt.Sprintf("'%s'!$A$2:$A$%d", sheet, n), Values: fmt.Sprintf("'%s'!$%s$2:$%s$%d", sheet, col, col, n)}
	}
	return f.AddChart(sheet, "F2", &excelize.Chart{Type: excelize.ColStacked,
		Series:    []excelize.ChartSeries{ser("C"), ser("D")},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: t.Title}}},
		Dimension: excelize.ChartDimension{Width: 720, Height: 360}})
}
