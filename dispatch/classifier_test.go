package dispatch

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func defaultClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := NewDefault()
	require.NoError(t, err)
	return c
}

// TestTieBreaks pins the hotline's tie-break conventions on utterances written for this
// test (not in the training data): the department that owns the caller's primary request.
func TestTieBreaks(t *testing.T) {
	c := defaultClassifier(t)
	cases := []struct{ text, want string }{
		{"嗯我们楼那个电梯卡在两层中间了我老婆在里面出不来", "market-regulation"},
		{"小区电梯太旧了要整体更换物业说要从维修资金里出", "housing-construction"},
		{"我们旁边那个工地半夜还在打桩根本睡不着觉", "urban-management"},
		{"楼上那户人家天天半夜在家里蹦蹦跳跳吵死了", "public-security"},
		{"楼下那个川菜馆的油烟全部冲到我们家里来了", "urban-management"},
		{"那个造船厂喷漆的气味太重了整个村子都是", "ecology-environment"},
		{"刚才有个人打电话说他是医保局的要我把钱转到一个账户里", "public-security"},
		{"我的城乡居民医保费在银行被扣了两次钱", "taxation"},
		{"我在外地住院回来报销的时候说我没有备案", "medical-security"},
		{"老板欠了我们四个月工资一直不给", "hr-social-security"},
		{"台风马上要来了我们海边的渔船回港没地方停", "ocean-fishery-port"},
		{"我们在楼道里给电瓶车充电物业也不管太危险了", "emergency-management"},
		{"我想提取公积金用来付房租", "housing-fund"},
		{"the lift got stuck between floors with my son inside", "market-regulation"},
		{"my boss has not paid my wages for three months", "hr-social-security"},
		{"someone pretending to be from the police told me to transfer money", "public-security"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			got := c.Rank(tc.text, 3)
			require.NotEmpty(t, got)
			require.Equal(t, tc.want, got[0].ID, "ranking: %+v", got)
		})
	}
}

func TestRankShape(t *testing.T) {
	c := defaultClassifier(t)
	got := c.Rank("我们这条路从早上开始停水了到现在还没来水", 5)
	require.Len(t, got, 5)
	require.Equal(t, "water-supply", got[0].ID)
	require.Equal(t, "水务集团（供水排水）", got[0].Name)
	var sum float64
	for i, s := range got {
		require.Greater(t, s.Score, 0.0)
		if i > 0 {
			require.LessOrEqual(t, s.Score, got[i-1].Score)
		}
		sum += s.Score
	}
	require.LessOrEqual(t, sum, 1.0+1e-9)
	require.NotEmpty(t, got[0].Evidence)
	for _, e := range got[0].Evidence {
		require.Contains(t, "我们这条路从早上开始停水了到现在还没来水", e)
	}
	require.Len(t, c.Rank("停水", 0), len(c.Taxonomy().Departments), "top 0 means all")
}

func TestRankBadInput(t *testing.T) {
	c := defaultClassifier(t)
	for name, text := range map[string]string{
		"empty":       "",
		"spaces":      "   \t ",
		"punctuation": "？？！！。。……",
		"emoji only":  "😀😀🙏",
	} {
		t.Run(name, func(t *testing.T) { require.Empty(t, c.Rank(text, 3)) })
	}
	for name, text := range map[string]string{
		"100KB":        strings.Repeat("我们小区停电了", 5000),
		"mixed script": "我的wifi宽带断了 broadband is down again 😡",
		"emoji":        "停水了😭😭😭三天了",
		"invalid utf8": "停水\xff\xfe了",
		"control":      "停\x00水\x07了",
		"fullwidth":    "ＷＡＴＥＲ　ｐｒｅｓｓｕｒｅ ｔｏｏ ｌｏｗ",
	} {
		t.Run(name, func(t *testing.T) {
			got := c.Rank(text, 3)
			require.Len(t, got, 3)
			for _, s := range got {
				require.False(t, math.IsNaN(s.Score))
			}
		})
	}
}

// TestHeldOutFloor keeps the built-in model honest: it must stay above a floor on the
// held-out examples that training never sees.
func TestHeldOutFloor(t *testing.T) {
	c := defaultClassifier(t)
	exs, err := LoadExamples("../testdata/dispatch/heldout")
	require.NoError(t, err)
	rep := Evaluate(c, exs, time.Now)
	require.GreaterOrEqual(t, rep.Langs["zh"].Top1, 0.80)
	require.GreaterOrEqual(t, rep.Langs["zh"].Top3, 0.90)
	require.GreaterOrEqual(t, rep.Langs["en"].Top1, 0.65)
}

func TestLoadFromFiles(t *testing.T) {
	c, err := Load("taxonomy.yaml", "builtin.model")
	require.NoError(t, err)
	require.Equal(t, "housing-fund", c.Rank("公积金怎么提取", 1)[0].ID)
	_, err = Load("no-such.yaml", "")
	require.Error(t, err)
	_, err = Load("", "no-such.model")
	require.Error(t, err)
}

func TestTaxonomyValidation(t *testing.T) {
	tax, err := DefaultTaxonomy()
	require.NoError(t, err)
	require.Len(t, tax.Departments, 26)
	require.Equal(t, -1, tax.Index("nope"))
	bad := map[string]string{
		"version":        "version: 2\ndepartments: []",
		"unknown field":  "version: 1\nbogus: 1\ndepartments: [{id: a, name: A}, {id: b, name: B}]",
		"duplicate":      "version: 1\ndepartments: [{id: a, name: A}, {id: a, name: B}]",
		"too few":        "version: 1\ndepartments: [{id: a, name: A}]",
		"rule unknown":   "version: 1\ndepartments: [{id: a, name: A}, {id: b, name: B}]\nrules: [{name: r, all: [[x]], boost: {c: 1}}]",
		"rule empty all": "version: 1\ndepartments: [{id: a, name: A}, {id: b, name: B}]\nrules: [{name: r, all: [[]], boost: {a: 1}}]",
		"not yaml":       "{{{",
	}
	for name, y := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTaxonomy([]byte(y))
			require.Error(t, err)
		})
	}
}

func TestTermMatching(t *testing.T) {
	require.GreaterOrEqual(t, termIn("the lifts are down", "lift"), 0)
	require.Equal(t, -1, termIn("shoplifting again", "lift"))
	require.GreaterOrEqual(t, termIn("电梯坏了", "电梯"), 0)
	require.Equal(t, "en", DetectLang("the water is off"))
	require.Equal(t, "zh", DetectLang("停水了 wifi"))
}

func FuzzRank(f *testing.F) {
	c := defaultClassifier(f)
	for _, s := range []string{"", "停水了", "the lift is stuck", "\xff\xfe", "😀", "阳光花园3号楼电梯坏了", strings.Repeat("a ", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := c.Rank(text, 3)
		var sum float64
		for _, s := range got {
			if math.IsNaN(s.Score) || s.Score < 0 {
				t.Fatalf("score %v for %q", s.Score, text)
			}
			sum += s.Score
		}
		if sum > 1+1e-9 {
			t.Fatalf("scores sum to %v", sum)
		}
	})
}

func BenchmarkRank(b *testing.B) {
	c := defaultClassifier(b)
	texts := []string{
		"喂你好我想问一下我们小区三号楼的电梯今天又坏了里面还关了人物业说等维保",
		"the restaurant downstairs blows its cooking fumes into our windows every evening",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Rank(texts[i%len(texts)], 3)
	}
}
