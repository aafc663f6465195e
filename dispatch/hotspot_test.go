package dispatch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestExtractPlaces(t *testing.T) {
	cases := []struct {
		text     string
		name     string
		building int
	}{
		{"我们阳光花园三号楼的电梯又坏了", "阳光花园", 3},
		{"住在洋光花园3号楼", "洋光花园", 3},
		{"嗯那个阳光花园三栋电梯", "阳光花园", 3},
		{"阳光花园3幢", "阳光花园", 3},
		{"阳光花园的十二号楼", "阳光花园", 12},
		{"金色家园二十一栋", "金色家园", 21},
		{"我们这条解放路上停水了", "解放路", 0},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			ps := extractPlaces(normalize(tc.text))
			require.NotEmpty(t, ps)
			require.Equal(t, tc.name, ps[0].Name)
			require.Equal(t, tc.building, ps[0].Building)
		})
	}
	require.Empty(t, extractPlaces(normalize("我们小区停水了")), "an unnamed compound is no place")
	require.Empty(t, extractPlaces(normalize("农村的马路")))
	a, b := extractPlaces("阳光花园")[0], extractPlaces("洋光花园")[0]
	require.True(t, samePlace(a, b), "ASR homophones are one place")
	require.False(t, samePlace(a, extractPlaces("月光花园")[0]))
	require.False(t, samePlace(a, extractPlaces("阳光小区")[0]))
	require.False(t, samePlace(extractPlaces("阳光花园3号楼")[0], extractPlaces("阳光花园5号楼")[0]))
}

func TestHotspotAlert(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := NewHotspots(HotspotConfig{Threshold: 3, Window: time.Hour}, clk.now)
	const dept = "market-regulation"
	require.Empty(t, h.Observe("c1", dept, "喂我们阳光花园三号楼的电梯又坏了里面关了人"))
	clk.advance(5 * time.Minute)
	// Near misses: the same issue at another compound, another issue at the same one.
	require.Empty(t, h.Observe("n1", dept, "金色家园三号楼的电梯坏了里面关了人"))
	require.Empty(t, h.Observe("n2", dept, "阳光花园门口的超市卖过期的牛奶"))
	require.Empty(t, h.Observe("n3", "water-supply", "阳光花园三号楼停水了"))
	require.Empty(t, h.Observe("n4", dept, "我们小区电梯坏了里面关了人"), "no place, no group")
	require.Empty(t, h.Observe("c2", dept, "洋光花园3号楼电梯坏了有人关在里面"))
	clk.advance(5 * time.Minute)
	alerts := h.Observe("c3", dept, "嗯阳光花园三栋那个电梯又坏了把人关里面了")
	require.Len(t, alerts, 1)
	a := alerts[0]
	require.Equal(t, []string{"c1", "c2", "c3"}, a.CallIDs)
	require.Equal(t, dept, a.Department)
	require.Equal(t, "阳光花园3号楼", a.Place)
	require.Contains(t, a.Issue, "电梯")
	require.Equal(t, clk.t, a.At)

	// A fourth call updates the same alert.
	more := h.Observe("c4", dept, "阳光花园3号楼电梯坏了关了人")
	require.Len(t, more, 1)
	require.Equal(t, a.ID, more[0].ID)
	require.Len(t, more[0].CallIDs, 4)
	require.Len(t, h.Alerts(), 1)

	// The window slides: once the early calls are old, the group is below threshold.
	clk.advance(58 * time.Minute)
	require.Empty(t, h.Alerts())
}

func TestHotspotReobserve(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := NewHotspots(HotspotConfig{Threshold: 2}, clk.now)
	require.Empty(t, h.Observe("c1", "water-supply", "阳光花园停水了"))
	// The same call observed again (its final transcript) is still one call.
	require.Empty(t, h.Observe("c1", "water-supply", "阳光花园停水了一整天了"))
	require.Len(t, h.Observe("c2", "water-supply", "洋光花园那边停水了一整天"), 1)
	require.Empty(t, h.Observe("c3", "", "阳光花园停水"), "no department, no group")
}

func TestHotspotMaxCalls(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := NewHotspots(HotspotConfig{Threshold: 3, MaxCalls: 2}, clk.now)
	h.Observe("c1", "water-supply", "阳光花园停水了")
	h.Observe("c2", "water-supply", "阳光花园停水了")
	require.Len(t, h.Observe("c3", "water-supply", "阳光花园停水了"), 0, "the oldest was forgotten")
}

func FuzzExtractPlaces(f *testing.F) {
	for _, s := range []string{"阳光花园三号楼", "十十十号楼花园", "路", "花园九十九栋", "\xff花园"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range extractPlaces(normalize(s)) {
			if p.Building < 0 || len([]rune(p.Name)) < 3 {
				t.Fatalf("bad place %+v from %q", p, s)
			}
		}
	})
}
