package dispatch

import (
	"fmt"
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
		{"阳光花园第三栋", "阳光花园", 3},
		{"阳光花园的十二号楼", "阳光花园", 12},
		{"金色家园二十一栋", "金色家园", 21},
		{"我们这条解放路上停水了", "解放路", 0},
		{"东河菜场门口", "东河菜场", 0},
		{"我在妙桥村站头等车", "妙桥村", 0},
		{"那个二十五路公交一直不来", "25路", 0},
		{"25路今天停了", "25路", 0},
		{"实验小学门口", "实验小学", 0},
		{"我们王家庄那边", "王家庄", 0},
		{"住碧水湾5栋", "碧水湾", 5},
		{"东港社区这边", "东港社区", 0},
		{"到长途汽车站门口", "长途汽车站", 0},
		{"泰和路那边", "泰和路", 0},
		{"我是碧桂园的", "碧桂园", 0},
		{"泥峙村旁边的北峰村也停电了", "北峰村", 0},
		{"定海一小门口", "定海1小", 0},
		{"定海第一小学门口", "定海第一小学", 0},
		{"定海二中旁边", "定海2中", 0},
		{"东河菜场旁边那个下水道", "东河菜场", 0},
		{"上海路上", "上海路", 0},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			ps := extractPlaces(normalize(tc.text))
			require.NotEmpty(t, ps)
			require.Equal(t, tc.name, ps[0].Name)
			require.Equal(t, tc.building, ps[0].Building)
		})
	}
	for _, text := range []string{"我们小区停水了", "农村的马路", "要去城里医院配药", "一路上都是水", "去社区医院打针", "门口的超市", "到现在还没人来弄", "我家孩子被学校劝退了", "我想感谢一下社区", "区政府", "企业街道欠款", "老板跑路了", "在校园里", "我家菜园", "晚上小区广场上", "孩子明年读小学", "等了一小时", "休息一小会儿", "一中午都没水"} {
		require.Empty(t, extractPlaces(normalize(text)), "%s names no place", text)
	}
	place := func(s string) Place { return extractPlaces(normalize(s))[0] }
	for _, same := range [][2]string{
		{"阳光花园", "洋光花园"},   // ASR homophone
		{"兴建路", "新建路"},     // xing/xin, as ASR and southern speech confuse them
		{"沈家门兴建路", "兴建路"},  // speech run into the name
		{"阳光花园", "阳光小区"},   // 小区 is what callers call any compound
		{"东河菜场", "东和菜市场"},  // a market whatever the word
		{"二十五路公交", "25路车"}, // a bus route in either numeral
		{"定海一小", "定海1小"},
	} {
		require.True(t, samePlace(place(same[0]), place(same[1])), "%s = %s", same[0], same[1])
	}
	for _, other := range [][2]string{
		{"阳光花园", "月光花园"},
		{"阳光花园", "阳光家园"}, // two compounds
		{"阳光花园3号楼", "阳光花园5号楼"},
		{"兴建路", "兴建村"},
		{"实验小学", "实验中学"},
		{"定海一小", "定海二小"},
		{"定海一小", "定海一中"},
	} {
		require.False(t, samePlace(place(other[0]), place(other[1])), "%s ≠ %s", other[0], other[1])
	}
	require.Equal(t, 7, buildingIn(normalize("我是翠竹苑的，住七栋")))
	require.Equal(t, 3, buildingIn(normalize("第三幢那个电梯")))
	require.Equal(t, 0, buildingIn(normalize("我三号去的")), "号 alone is a date as often as a building")
}

// newTestHotspots is a detector on the built-in issue classifier, trained once per test
// binary.
func newTestHotspots(t *testing.T, cfg HotspotConfig, clk *fakeClock) *Hotspots {
	ic, err := testIssues()
	require.NoError(t, err)
	cfg.Issues = ic
	return NewHotspots(cfg, clk.now)
}

func TestHotspotAlert(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3, Window: time.Hour}, clk)
	require.Empty(t, h.Observe("c1", "market-regulation", "喂我们阳光花园三号楼的电梯又坏了里面关了人"))
	clk.advance(5 * time.Minute)
	// Near misses: the same issue at another compound and at another building of this one,
	// another issue at this compound, no place named.
	require.Empty(t, h.Observe("n1", "market-regulation", "金色家园三号楼的电梯坏了里面关了人"))
	require.Empty(t, h.Observe("n2", "market-regulation", "阳光花园五号楼电梯也停了"))
	require.Empty(t, h.Observe("n3", "water-supply", "阳光花园三号楼停水了"))
	require.Empty(t, h.Observe("n4", "market-regulation", "我们小区电梯坏了里面关了人"), "no place, no group")
	// A paraphrase the classifier sends to another department still joins.
	require.Empty(t, h.Observe("c2", "housing-construction", "洋光花园3号楼那个上下楼的梯子不动了物业也不管"))
	require.Empty(t, h.Observe("n5", "market-regulation", "金色家园3号楼电梯还是不动"))
	clk.advance(5 * time.Minute)
	alerts := h.Observe("c3", "", "嗯阳光花园第三栋按了半天按钮门也不开只能爬楼")
	require.Len(t, alerts, 1)
	a := alerts[0]
	require.Equal(t, []string{"c1", "c2", "c3"}, a.CallIDs)
	require.Equal(t, "market-regulation", a.Department, "the issue type's department, whatever each call's")
	require.Equal(t, "阳光花园3号楼", a.Place)
	require.Equal(t, "电梯故障", a.Issue)
	require.Equal(t, "lift-fault", a.IssueID)
	require.Equal(t, AlertRaised, a.State)
	require.Equal(t, clk.t, a.At)
	require.Equal(t, clk.t, a.RaisedAt)

	// A fourth call grows the same alert.
	more := h.Observe("c4", "market-regulation", "阳光花园3号楼电梯坏了关了人")
	require.Len(t, more, 1)
	require.Equal(t, a.ID, more[0].ID)
	require.Equal(t, AlertGrown, more[0].State)
	require.Len(t, more[0].CallIDs, 4)
	require.Len(t, h.Alerts(), 1)
}

func TestHotspotLifecycle(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3, Window: time.Hour}, clk)
	texts := []string{"海韵家园停水了", "海运家园家里一滴水都没有", "海韵家园水龙头拧不出水", "海韵家园还是没水", "海韵家园的水什么时候来"}
	var id string
	for i, text := range texts[:3] {
		clk.advance(time.Minute)
		got := h.Observe(string(rune('a'+i)), "", text)
		if i == 2 {
			require.Len(t, got, 1)
			id = got[0].ID
		}
	}
	clk.advance(time.Minute)
	ack, err := h.Acknowledge(id, "admin-li")
	require.NoError(t, err)
	require.Equal(t, AlertAcknowledged, ack.State)
	require.Equal(t, "admin-li", ack.AckBy)
	require.Equal(t, clk.t, ack.AckAt)
	clk.advance(time.Minute)
	grown := h.Observe("d", "", texts[3])
	require.Len(t, grown, 1)
	require.Equal(t, AlertAcknowledged, grown[0].State, "an acknowledged alert keeps growing")
	require.Len(t, grown[0].CallIDs, 4)

	closed, err := h.Close(id, "admin-li")
	require.NoError(t, err)
	require.Equal(t, AlertClosed, closed.State)
	require.Equal(t, clk.t, closed.EndedAt)
	_, err = h.Close(id, "admin-li")
	require.ErrorIs(t, err, ErrNoAlert)
	_, err = h.Acknowledge("hotspot-99", "admin-li")
	require.ErrorIs(t, err, ErrNoAlert)
	require.Empty(t, h.Alerts())

	// After closing, the same issue at the same place starts a new group.
	require.Empty(t, h.Observe("e", "", texts[4]))
	require.Empty(t, h.Observe("f", "", texts[0]))
	again := h.Observe("g", "", texts[1])
	require.Len(t, again, 1)
	require.NotEqual(t, id, again[0].ID)
	require.Equal(t, []string{"e", "f", "g"}, again[0].CallIDs)

	// With no call for a window, the alert expires.
	clk.advance(59 * time.Minute)
	require.Empty(t, h.Expire())
	clk.advance(2 * time.Minute)
	ended := h.Expire()
	require.Len(t, ended, 1)
	require.Equal(t, AlertExpired, ended[0].State)
	require.Equal(t, again[0].ID, ended[0].ID)
	require.Empty(t, h.Alerts())
}

func TestHotspotWindow(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3, Window: 2 * time.Hour}, clk)
	// The same place, hours apart: not a hotspot.
	for i, text := range []string{"新港路的路灯不亮", "新港路晚上一片黑路灯坏了", "兴港路路灯又不亮了"} {
		require.Empty(t, h.Observe(string(rune('a'+i)), "", text))
		clk.advance(150 * time.Minute)
	}
	// Three within two hours are.
	for i, text := range []string{"新港路的路灯不亮", "新港路晚上一片黑路灯坏了"} {
		require.Empty(t, h.Observe(string(rune('x'+i)), "", text))
		clk.advance(50 * time.Minute)
	}
	require.Len(t, h.Observe("z", "", "兴港路路灯又不亮了"), 1)
}

func TestHotspotGivenIssue(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 2}, clk)
	// An issue given by name or id is trusted over the text.
	a, err := h.Add(Call{ID: "a", At: clk.t, Text: "金桥花园的事情", Issue: "停电"})
	require.NoError(t, err)
	require.Nil(t, a)
	a, err = h.Add(Call{ID: "b", At: clk.t.Add(time.Minute), Text: "金桥花园那边又出问题了", Issue: "power-outage"})
	require.NoError(t, err)
	require.NotNil(t, a)
	require.Equal(t, "停电", a.Issue)
	require.Equal(t, "power-supply", a.Department)
}

func TestHotspotReobserve(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 2}, clk)
	require.Empty(t, h.Observe("c1", "water-supply", "阳光花园停水了"))
	// The same call observed again (its final transcript) is still one call.
	require.Empty(t, h.Observe("c1", "water-supply", "阳光花园停水了一整天了"))
	got := h.Observe("c2", "", "洋光花园那边停水了一整天")
	require.Len(t, got, 1)
	require.Equal(t, []string{"c1", "c2"}, got[0].CallIDs)
}

func TestHotspotMaxCalls(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3, MaxCalls: 2}, clk)
	h.Observe("c1", "water-supply", "阳光花园停水了")
	h.Observe("c2", "water-supply", "阳光花园停水了")
	require.Empty(t, h.Observe("c3", "water-supply", "阳光花园停水了"), "the oldest was forgotten")
}

func FuzzExtractPlaces(f *testing.F) {
	for _, s := range []string{"阳光花园三号楼", "十十十号楼花园", "路", "花园九十九栋", "\xff花园", "二十五路公交", "9999路车"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range extractPlaces(normalize(s)) {
			if p.Building < 0 || p.Name == "" || len(p.key) < 2 {
				t.Fatalf("bad place %+v from %q", p, s)
			}
		}
		buildingIn(normalize(s))
	})
}

func TestHotspotAmbiguousCallJoinsBiggerGroup(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	h := newTestHotspots(t, HotspotConfig{Threshold: 3}, clk)
	for i, text := range []string{"新城大道和长峙路路口的红绿灯坏了一直闪黄灯", "长峙路新城大道路口信号灯不亮", "新城大道长峙路口的红绿灯没人修"} {
		clk.advance(time.Minute)
		h.Observe(fmt.Sprint("s", i), "", text)
	}
	clk.advance(time.Minute)
	require.Empty(t, h.Observe("l1", "", "新城大道上有一段路灯不亮"), "a street light: its own group")
	// Heard as half street light, half signal: the three-call signal group is the likelier home.
	ic, err := testIssues()
	require.NoError(t, err)
	text := "长峙路和新城大道那个路口红灯一直亮着不变绿的"
	r := ic.Rank(text, "", 2)
	require.Less(t, r[0].Score, 0.8, "the test needs an ambiguous call: %+v", r)
	clk.advance(time.Minute)
	got := h.Observe("x", "", text)
	require.Len(t, got, 1)
	require.Equal(t, "traffic-signal", got[0].IssueID)
	require.Equal(t, []string{"s0", "s1", "s2", "x"}, got[0].CallIDs)
}
