package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/store"
)

// seedMonths writes perMonth calls in each of the months from first on, as a hotline of
// 800,000 calls a year takes them (by day): 85% answered, surveys on
// 40%, a draft with one of 80 issue types, 20 departments and 300 places on every
// answered call, callers drawn from 15,000 numbers so that some call again, and a
// hundred hotspot alerts a month.
func seedMonths(b *testing.B, st *store.SQLite, first time.Time, months, perMonth int) {
	rng := rand.New(rand.NewPCG(1, 2))
	surveys := []string{"satisfied", "satisfied", "basic", "dissatisfied", "no_answer"}
	var rows []store.Row
	flush := func() {
		require.NoError(b, st.Write(context.Background(), rows...))
		rows = rows[:0]
	}
	for m := range months {
		from := first.AddDate(0, m, 0)
		span := from.AddDate(0, 1, 0).Sub(from)
		for i := range perMonth {
			// a day of the month, a time between 07:00 and 21:00
			at := from.Add(time.Duration(rng.Int64N(int64(span))))
			day := time.Date(at.Year(), at.Month(), at.Day(), 7, 0, 0, 0, at.Location())
			at = day.Add(time.Duration(rng.Int64N(int64(14 * time.Hour))))
			id := fmt.Sprintf("m%d-%06d", m, i)
			seat := fmt.Sprintf("seat-%02d", rng.IntN(60)+1)
			rows = append(rows, store.Call{ID: id, From: fmt.Sprintf("139%08d", rng.IntN(15000)), Seat: seat, OfferedAt: at})
			end := at.Add(time.Duration(30+rng.IntN(60)) * time.Second)
			survey := ""
			if rng.IntN(100) < 85 {
				answered := at.Add(time.Duration(rng.IntN(40)) * time.Second)
				end = answered.Add(time.Duration(60+rng.IntN(400)) * time.Second)
				rows = append(rows, store.CallAnswered{CallID: id, Seat: seat, At: answered})
				if rng.IntN(100) < 40 {
					survey = surveys[rng.IntN(len(surveys))]
				}
				issue := rng.IntN(80)
				data, _ := json.Marshal(map[string]string{"department": fmt.Sprint("dept-", issue%20), "issue": fmt.Sprint("issue-", issue),
					"place": fmt.Sprintf("第%d小区%d号楼", rng.IntN(300), rng.IntN(20))})
				rows = append(rows, store.WorkOrderDraft{CallID: id, Seat: seat, Data: data, At: end})
				if rng.IntN(100) < 70 {
					rows = append(rows, store.Decision{CallID: id, Seat: seat, Department: fmt.Sprint("dept-", issue%20), At: end})
				}
			}
			rows = append(rows, store.CallEnded{CallID: id, At: end, Survey: survey})
			if len(rows) > 2000 {
				flush()
			}
		}
		for a := range 100 {
			data, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("hotspot-%d-%d", m, a), "state": "raised", "issue": "停水", "place": "新建路", "count": 3})
			rows = append(rows, store.Alert{Department: "dept-1", Count: 3, Data: data, At: from.Add(time.Duration(a) * 7 * time.Hour)})
		}
	}
	flush()
}

// BenchmarkMonthlyReport is a month's report of 25,000 calls (a hotline of 800,000 a
// year), the month before as full: reading it from SQLite, then the HTML, XLSX and CSV
// files the schedule writes, and the PDF (the CPU and memory of Chromium, a process of its
// own, are not in the figures; its time is).
//
//	go test -run '^$' -bench MonthlyReport -benchmem -benchtime 5x ./report
func BenchmarkMonthlyReport(b *testing.B) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "lianxin.db"))
	require.NoError(b, err)
	defer st.Close()
	seedMonths(b, st, time.Date(2026, 10, 1, 0, 0, 0, 0, cst), 2, 25000)
	r := newReports(b, st, Config{Redact: true, Chromium: "/usr/bin/chromium"})
	p := PeriodOf(Monthly, time.Date(2026, 11, 15, 0, 0, 0, 0, cst))
	ctx := context.Background()

	run := func(b *testing.B, formats ...Format) {
		for b.Loop() {
			rep, err := r.builder.Build(ctx, p, "zh")
			require.NoError(b, err)
			require.Equal(b, 25000, rep.Figures.Offered)
			for _, f := range formats {
				_, err := r.renderer.Render(ctx, rep, f)
				require.NoError(b, err)
			}
		}
	}
	b.Run("read", func(b *testing.B) { run(b) })
	b.Run("read+html+xlsx+csv", func(b *testing.B) { run(b, HTML, XLSX, CSV) })
	b.Run("read+pdf", func(b *testing.B) {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			b.Skip("needs Debian's chromium")
		}
		run(b, PDF)
	})
}
