package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

// writeCSV writes the report as one long table, a row per figure: section (summary, hour,
// department…), item (the row's name), measure (the column's name) and the raw value —
// counts, ratios from 0 to 1, seconds — so that a spreadsheet or a script can take it
// without parsing what the page shows. Changes are left out: they follow from the
// previous period's values. A UTF-8 byte order mark leads, for spreadsheets that
// otherwise read Chinese as another encoding.
func writeCSV(l layout) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	rows := [][]string{{"section", "item", "measure", "value"},
		{"report", l.Title, "period", l.Period}, {"report", l.Title, "generated", l.Generated}}
	for _, t := range l.Tables {
		for _, row := range t.Rows {
			for j, c := range row[1:] {
				if c.Kind == changeCell {
					continue
				}
				rows = append(rows, []string{t.Key, row[0].Text, t.Head[j+1], csvValue(c)})
			}
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("report: csv: %w", err)
	}
	return b.Bytes(), nil
}

func csvValue(c cell) string {
	switch v := c.Value.(type) {
	case nil:
		return ""
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		// a spreadsheet would run text that starts like a formula (a place as the
		// recogniser heard it): a leading quote keeps it text
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			return "'" + v
		}
		return v
	}
	return c.Text
}
