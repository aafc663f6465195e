package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"lianxin/dispatch"
	"lianxin/store"
	"lianxin/workorder"
)

// streamPlaces are the places the calls of the hotspot streams (testdata/dispatch/hotspots)
// name, as the gateway's drafts spell them: the spellings of one place together (the
// recogniser's slips, a name said longer or shorter, another word for a market or a
// compound), one place apart from the next (another building, another school, a compound
// without its building).
var streamPlaces = map[string][][]string{
	"fresh-day.jsonl": {{"青龙山庄", "清龙山庄"}, {"海天大厦", "海添大厦"}, {"中山步行街", "步行街"}, {"12路"}, {"青龙新村"},
		{"东方花园8号楼"}, {"东方花园9号楼"}, {"东方家园8号楼"}, {"东方花园"}},
	"mixed-day.jsonl": {{"育才小学", "玉才小学"}, {"育才中学"}, {"解放东路", "解放冬路"}, {"山水苑", "三水苑"},
		{"金城花园6号楼", "京城花园6号楼"}, {"人民公园"}},
	"mixed-forms.jsonl": {{"东门菜场", "东门农贸市场", "东门菜市场", "下东门菜场"}, {"丽园新村11号楼"}, {"丽园新村12号楼"},
		{"丽园新村"}, {"新城大道"}, {"长峙路"}},
	"near-misses.jsonl": {{"兰亭苑3号楼", "蓝亭苑3号楼"}, {"兰亭苑6号楼"}, {"兰亭苑"}, {"梅花新村", "美华新村"}, {"和平路", "河平路"}},
	"paraphrase-day.jsonl": {{"金桥花园2号楼", "金乔花园2号楼"}, {"金桥花园5号楼"}, {"银桥花园2号楼"}, {"金桥花园"},
		{"海韵家园", "海运家园"}, {"海景家园"}, {"文化路", "闻化路"}, {"新港路", "兴港路"}, {"翠竹苑7号楼"}},
	"scope-day.jsonl": {{"阳光小区"}, {"阳光小区2号楼"}, {"阳光小区5号楼"}, {"阳光小区8号楼"}, {"明月小区"}, {"人民路"},
		{"25路"}, {"26路"}},
	"short-calls.jsonl": {{"惠民小区", "会民小区", "惠民花园"}, {"惠民小区2号楼"}, {"惠民小区5号楼"}, {"文昌苑7号楼"},
		{"文昌苑9号楼"}, {"文昌新村7号楼"}, {"环城北路", "城北路"}},
	"zhoushan-day.jsonl": {{"泥峙村", "沙镇泥峙村", "尼峙村"}, {"北峰村"}, {"海院路", "投诉海院路"},
		{"海华园12号楼", "东港海华园12号楼"}, {"海华园8号楼"}, {"海华园10号楼"}, {"家门渔港路"}},
}

// streamCall is one line of a hotspot stream.
type streamCall struct {
	ID     string  `json:"id"`
	Minute float64 `json:"minute"`
	Text   string  `json:"text"`
}

func readStream(t *testing.T, path string) []streamCall {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []streamCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c streamCall
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c), path)
		out = append(out, c)
	}
	require.NoError(t, sc.Err())
	return out
}

// draftedCall is a call of a stream with the place its draft gave.
type draftedCall struct {
	id    string
	at    time.Time
	place string
}

// seedStream writes the calls of a stream on day, each with the draft the gateway makes
// of what the caller said, and returns them.
func seedStream(t *testing.T, st *store.SQLite, drafts *workorder.Builder, calls []streamCall, day time.Time, prefix string) []draftedCall {
	t.Helper()
	var rows []store.Row
	var out []draftedCall
	for _, c := range calls {
		id := prefix + c.ID
		at := day.Add(8*time.Hour + time.Duration(c.Minute*float64(time.Minute)))
		d := drafts.Live(workorder.Input{CallID: id, Text: []string{c.Text}})
		data, err := json.Marshal(d)
		require.NoError(t, err)
		end := at.Add(3 * time.Minute)
		rows = append(rows, store.Call{ID: id, From: "13900139000", Seat: "seat-01", OfferedAt: at},
			store.CallAnswered{CallID: id, Seat: "seat-01", At: at.Add(10 * time.Second)},
			store.CallEnded{CallID: id, At: end},
			store.WorkOrderDraft{CallID: id, Seat: "seat-01", Data: data, At: end})
		if d.Place != "" {
			out = append(out, draftedCall{id: id, at: at, place: d.Place})
		}
	}
	require.NoError(t, st.Write(context.Background(), rows...))
	return out
}

// wantPlace is a place as the report must show it.
type wantPlace struct {
	shown       string
	calls, prev int
}

// expectPlaces counts the calls of each place however spelled, shown as most of the day's
// calls spelled it (ties: the earliest), and fails on a spelling no place lists.
func expectPlaces(t *testing.T, places [][]string, day, before []draftedCall) []wantPlace {
	t.Helper()
	placeOf := map[string]int{}
	for i, spellings := range places {
		for _, s := range spellings {
			placeOf[s] = i
		}
	}
	want := make([]wantPlace, len(places))
	seen := map[string]int{}
	first := map[string]time.Time{}
	for _, c := range day {
		i, ok := placeOf[c.place]
		require.True(t, ok, "%s: a draft spelled %q, which no place lists", c.id, c.place)
		want[i].calls++
		seen[c.place]++
		if _, ok := first[c.place]; !ok {
			first[c.place] = c.at
		}
	}
	for _, c := range before {
		want[placeOf[c.place]].prev++
	}
	for i, spellings := range places {
		for _, s := range spellings {
			require.Positive(t, seen[s], "no draft of the day spelled %q", s)
			w := want[i].shown
			if seen[s] > seen[w] || seen[s] > 0 && seen[s] == seen[w] && first[s].Before(first[w]) {
				want[i].shown = s
			}
		}
	}
	return want
}

// TestPlacesGroupedAsHotspotsGroupThem replays each hotspot stream as a day of calls, the
// day before holding every other call of it, drafts made as the gateway makes them: the
// day's report counts each place once however the drafts spelled it, with the calls of
// the day before on the same place, in the report, its CSV file and its workbook.
func TestPlacesGroupedAsHotspotsGroupThem(t *testing.T) {
	clf, err := dispatch.NewDefault()
	require.NoError(t, err)
	drafts, err := workorder.NewBuilder(workorder.Config{Classifier: clf})
	require.NoError(t, err)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "lianxin.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	r := newReports(t, st, Config{Redact: true, Places: dispatch.GroupPlaces})

	paths, err := filepath.Glob("../testdata/dispatch/hotspots/*.jsonl")
	require.NoError(t, err)
	require.Len(t, paths, len(streamPlaces), "every stream has its places listed")
	first := time.Date(2026, 12, 2, 0, 0, 0, 0, cst)
	for k, path := range paths {
		name := filepath.Base(path)
		places, ok := streamPlaces[name]
		require.True(t, ok, "no places listed for %s", name)
		day := first.AddDate(0, 0, 2*k)
		calls := readStream(t, path)
		var odd []streamCall
		for i, c := range calls {
			if i%2 == 1 {
				odd = append(odd, c)
			}
		}
		before := seedStream(t, st, drafts, odd, day.AddDate(0, 0, -1), "before-")
		today := seedStream(t, st, drafts, calls, day, "")
		want := expectPlaces(t, places, today, before)

		t.Run(name, func(t *testing.T) {
			rep, err := r.builder.Build(context.Background(), PeriodOf(Daily, day), "zh")
			require.NoError(t, err)
			got := map[string]Place{}
			for _, p := range rep.Places {
				got[p.Place] = p
			}
			require.Len(t, rep.Places, len(want), "one row per place: %v", rep.Places)
			for _, w := range want {
				p, ok := got[w.shown]
				require.True(t, ok, "%s is not a row: %v", w.shown, rep.Places)
				require.Equal(t, w, wantPlace{shown: p.Place, calls: p.Calls, prev: p.Prev})
			}
			date := day.Format(time.DateOnly)
			checkCSVPlaces(t, r, date, want)
			checkXLSXPlaces(t, r, date, want)
		})
	}
}

func checkCSVPlaces(t *testing.T, r *Reports, date string, want []wantPlace) {
	t.Helper()
	f, err := r.Make(context.Background(), "daily", date, "csv", "zh")
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(f.Body, []byte("\ufeff")))).ReadAll()
	require.NoError(t, err)
	got := map[[2]string]string{}
	n := 0
	for _, row := range rows {
		if row[0] == "place" {
			got[[2]string{row[1], row[2]}] = row[3]
			n++
		}
	}
	require.Equal(t, 3*len(want), n, "calls, the day before and the main issue of each place")
	for _, w := range want {
		require.Equal(t, strconv.Itoa(w.calls), got[[2]string{w.shown, "来电"}], "%s this day", w.shown)
		require.Equal(t, strconv.Itoa(w.prev), got[[2]string{w.shown, "上期"}], "%s the day before", w.shown)
	}
}

func checkXLSXPlaces(t *testing.T, r *Reports, date string, want []wantPlace) {
	t.Helper()
	f, err := r.Make(context.Background(), "daily", date, "xlsx", "zh")
	require.NoError(t, err)
	x, err := excelize.OpenReader(bytes.NewReader(f.Body))
	require.NoError(t, err)
	defer x.Close()
	rows, err := x.GetRows("来电集中地点")
	require.NoError(t, err)
	head := -1
	for i, row := range rows {
		if len(row) > 0 && row[0] == "地点" {
			head = i
		}
	}
	require.GreaterOrEqual(t, head, 0, "the header row")
	require.Equal(t, []string{"地点", "来电", "上期", "变化", "主要事项"}, rows[head])
	got := map[string][]string{}
	for _, row := range rows[head+1:] {
		got[row[0]] = row
	}
	require.Len(t, got, len(want))
	for _, w := range want {
		row := got[w.shown]
		require.NotNil(t, row, "%s is not a row", w.shown)
		require.Equal(t, []string{strconv.Itoa(w.calls), strconv.Itoa(w.prev)}, row[1:3], "%s", w.shown)
	}
}

// TestPlaceSpellingShown: a place is shown as most of the period's calls spelled it, the
// earliest of the spellings tied, whatever the period before spelled.
func TestPlaceSpellingShown(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "lianxin.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	mon := time.Date(2026, 11, 23, 9, 0, 0, 0, cst)
	tue := mon.AddDate(0, 0, 1)
	var calls []call
	add := func(at time.Time, place string, n int) {
		for range n {
			calls = append(calls, call{id: fmt.Sprint("c", len(calls)), from: "13900139000", at: at, wait: time.Second,
				talk: time.Minute, dept: "water", issue: "water-outage", place: place})
			at = at.Add(time.Minute)
		}
	}
	add(mon, "兴建路", 5) // the day before: most spelled it one way
	add(tue.Add(time.Hour), "新建路", 2)
	add(tue, "沈家门兴建路", 2) // tied, and earlier
	add(tue, "建设路", 1)
	writeCalls(t, st, calls)

	outage := names.Issues["water-outage"]
	for _, c := range []struct {
		places PlaceGrouper
		want   []Place
	}{
		{dispatch.GroupPlaces, []Place{{Place: "沈家门兴建路", Calls: 4, Prev: 5, Issue: outage}, {Place: "建设路", Calls: 1, Issue: outage}}},
		{nil, []Place{{Place: "新建路", Calls: 2, Issue: outage}, {Place: "沈家门兴建路", Calls: 2, Issue: outage}, {Place: "建设路", Calls: 1, Issue: outage}}},
	} {
		r := newReports(t, st, Config{Places: c.places})
		rep, err := r.builder.Build(context.Background(), tuesday, "zh")
		require.NoError(t, err)
		require.Equal(t, c.want, rep.Places)
	}
}
