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

	"lianxin/dispatch"
	"lianxin/store"
)

// seedMonths writes perMonth calls in each of the months from first on, as a hotline of
// 800,000 calls a year takes them (by day): 85% answered, surveys on
// 40%, a draft with one of 80 issue types, 20 departments and 300 places (benchPlace) on
// every answered call, callers drawn from 15,000 numbers so that some call again, and a
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
					"place": benchPlace(rng)})
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

// benchStems and benchWords make 300 places: compounds, a market, a school, a road and a
// village by name.
var (
	benchStems = []string{"阳光", "金桥", "海韵", "翠竹", "兰亭", "丽园", "惠民", "文昌", "明月", "青龙", "东方", "山水", "梅花", "和平", "新港",
		"育才", "解放", "人民", "海天", "金城", "泥峙", "海院", "东门", "环城", "中山", "碧水", "紫荆", "绿城", "锦绣", "星河"}
	benchWords = []string{"花园", "小区", "新村", "家园", "苑", "大厦", "菜场", "小学", "路", "村"}
)

// benchPlace is a place as a draft spells it: one of 300, and in a compound one of ten
// buildings said one of three ways (3号楼, 三幢, 第三栋) or none: some 5,000 spellings.
func benchPlace(rng *rand.Rand) string {
	word := rng.IntN(len(benchWords))
	place := benchStems[rng.IntN(len(benchStems))] + benchWords[word]
	building := rng.IntN(10)
	if word > 5 || building == 0 {
		return place
	}
	numeral := string([]rune("一二三四五六七八九")[building-1])
	return place + []string{fmt.Sprint(building, "号楼"), numeral + "幢", "第" + numeral + "栋"}[rng.IntN(3)]
}

// BenchmarkMonthlyReport is a month's report of 25,000 calls (a hotline of 800,000 a
// year), the month before as full: reading it from SQLite, its places grouped as the
// hotspots group them (and, for the cost of that, as spelled, and the grouping of both
// months' place spellings alone), then the HTML, XLSX and CSV
// files the schedule writes, and the PDF (the CPU and memory of Chromium, a process of its
// own, are not in the figures; its time is).
//
//	go test -run '^$' -bench MonthlyReport -benchmem -benchtime 5x ./report
func BenchmarkMonthlyReport(b *testing.B) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "lianxin.db"))
	require.NoError(b, err)
	defer st.Close()
	seedMonths(b, st, time.Date(2026, 10, 1, 0, 0, 0, 0, cst), 2, 25000)
	r := newReports(b, st, Config{Redact: true, Chromium: "/usr/bin/chromium", Places: dispatch.GroupPlaces})
	spelled := newReports(b, st, Config{Redact: true})
	p := PeriodOf(Monthly, time.Date(2026, 11, 15, 0, 0, 0, 0, cst))
	ctx := context.Background()

	run := func(b *testing.B, r *Reports, formats ...Format) {
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
	b.Run("read", func(b *testing.B) { run(b, r) })
	b.Run("read-places-as-spelled", func(b *testing.B) { run(b, spelled) })
	b.Run("group-places", func(b *testing.B) {
		prev := p.Previous()
		cur, err := st.PlaceSpellings(ctx, p.From, p.To)
		require.NoError(b, err)
		before, err := st.PlaceSpellings(ctx, prev.From, prev.To)
		require.NoError(b, err)
		for b.Loop() {
			_, err := r.builder.groupPlaces(mergeSpellings(cur, before))
			require.NoError(b, err)
		}
		b.ReportMetric(float64(len(mergeSpellings(cur, before))), "spellings")
	})
	b.Run("read+html+xlsx+csv", func(b *testing.B) { run(b, r, HTML, XLSX, CSV) })
	b.Run("read+pdf", func(b *testing.B) {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			b.Skip("needs Debian's chromium")
		}
		run(b, r, PDF)
	})
}
