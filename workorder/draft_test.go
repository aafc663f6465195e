package workorder

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/dispatch"
)

func builder(t testing.TB, s Summarizer) *Builder {
	t.Helper()
	c, err := dispatch.NewDefault()
	require.NoError(t, err)
	b, err := NewBuilder(Config{Classifier: c, Summarizer: s})
	require.NoError(t, err)
	return b
}

// The transcripts are written the way the recogniser hands them over: no punctuation or
// the wrong one, numerals read digit by digit with 幺 and 要, hesitations, repeats and the
// caller correcting themselves; none follows a template of the extractor.
func TestLiveDraftFromSpeech(t *testing.T) {
	b := builder(t, nil)
	cases := []struct {
		name                                 string
		text                                 []string
		callback, place, address, time, dept string
		urgent                               []string
		summaryHas                           []string
	}{
		{
			name: "water cut, number said with 幺 and a pause",
			text: []string{"喂你好 我想反映一下 我们阳光花园三号楼二单元从昨天晚上十点多就停水了",
				"到现在还没来水 家里老人孩子都没法用", "你们赶紧派人过来看一下",
				"我电话是幺三八 嗯 零五八零 幺二三四"},
			callback: "13805801234", place: "阳光花园3号楼", address: "阳光花园三号楼二单元", time: "昨天晚上十点多",
			dept: "water-supply", summaryHas: []string{"停水", "诉求：", "赶紧派人过来看一下"},
		},
		{
			name: "gas smell, recogniser slips 要 for 幺, correction later",
			text: []string{"那个我们楼道里面一股很大的煤气味", "就在新建路88号 老小区", "我的手机一三九要二三四五六七八",
				"不对不对是一三九幺二三四五六七九", "希望燃气公司马上来人"},
			callback: "13912345679", time: "", urgent: []string{"燃气泄漏"},
			summaryHas: []string{"【紧急】", "煤气味"},
		},
		{
			name: "people trapped in a lift, with a duration",
			text: []string{"东港街道新城小区五幢的电梯坏了 有人被困在里面半个小时了", "赶紧来人救一下"},
			time: "半个小时了", urgent: []string{"人员被困"},
			summaryHas: []string{"被困"},
		},
		{
			name: "negated fire is not urgent, a date is an event time",
			text: []string{"3月5日开始楼下饭店油烟很大", "没有着火 就是味道大 窗户都不敢开", "希望环保部门管一管"},
			time: "3月5日", summaryHas: []string{"油烟"},
		},
		{
			name:   "self-harm words",
			text:   []string{"工资拖了半年了我真的活不下去了", "老板就是不给钱"},
			urgent: []string{"自伤风险"}, time: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := b.Live(Input{CallID: "c1", CallerNumber: "057712345678", Text: tc.text})
			require.Equal(t, "057712345678", d.CallerNumber)
			require.Equal(t, tc.callback, d.CallbackNumber)
			if tc.place != "" {
				require.Equal(t, tc.place, d.Place)
				require.Equal(t, tc.address, d.Address)
			}
			require.Equal(t, tc.time, d.EventTime)
			if tc.dept != "" {
				require.Equal(t, tc.dept, d.Department)
				require.NotEmpty(t, d.DepartmentName)
			}
			require.Equal(t, tc.urgent, d.UrgentReasons)
			require.Equal(t, len(tc.urgent) > 0, d.Urgent)
			require.Equal(t, SourceExtractive, d.SummarySource)
			require.True(t, strings.HasPrefix(strings.TrimPrefix(d.Summary, "【紧急】"), "市民来电反映："), d.Summary)
			for _, s := range tc.summaryHas {
				require.Contains(t, d.Summary, s)
			}
			require.NotContains(t, d.Summary, "喂")
			if tc.callback != "" {
				require.NotContains(t, Digits(d.Summary), tc.callback, "the callback number stays out of the summary")
			}
		})
	}
}

// Sentences from the dispatch examples that hold an urgent word but no emergency.
func TestNotUrgent(t *testing.T) {
	for _, s := range []string{
		"小区的消防通道被车堵死了万一着火消防车进不来",
		"喂我们这边自来水压力不够热水器都打不着火",
		"楼下没有着火就是烧烤的烟很大",
		"我担心孩子被困在电梯里所以想问问年检",
	} {
		require.Empty(t, Urgency(s), s)
	}
	require.Equal(t, []string{"火情"}, Urgency("嗯楼道里的电表箱冒烟了有焦味"))
	require.Equal(t, []string{"人员被困"}, Urgency("我们楼电梯刚才突然停了我儿子被关在里面出不来"))
}

func TestPlacesThatAreSpeech(t *testing.T) {
	place, address := placeAndAddress("出租车司机绕路了本来二十块钱的路收了我五十")
	require.Empty(t, place+address)
	place, _ = placeAndAddress("我想给小孩打疫苗社区医院说要等很久")
	require.NotContains(t, place, "打", "the first place name found was 孩打疫苗社区")
	place, _ = placeAndAddress("喂那个人民医院的急诊医生态度太差了")
	require.Equal(t, "人民医院", place)
}

func TestDecidedDepartmentWins(t *testing.T) {
	b := builder(t, nil)
	d := b.Live(Input{Text: []string{"小区门口的路灯坏了一个月了晚上黑乎乎的"}, Department: "housing-construction", Decided: true})
	require.Equal(t, "housing-construction", d.Department)
	require.True(t, d.Decided)
	d = b.Live(Input{Text: []string{"小区门口的路灯坏了"}, Department: "no-such-department"})
	require.Empty(t, d.Department, "an unknown department is not put in the order")
}

func TestDigits(t *testing.T) {
	require.Equal(t, "13805801234", Digits("幺三八，嗯，０五八零 要二三四"))
	require.Equal(t, "2020", Digits("两洞二〇"))
	require.Equal(t, "", CallbackNumber("我住1502室，2026年3月5号打过12345"))
}

func TestNothingSaidNoSummary(t *testing.T) {
	d := builder(t, nil).Live(Input{CallerNumber: "110", Text: []string{"喂", "你好", "嗯嗯 好的 谢谢"}})
	require.Empty(t, d.Summary)
	require.Equal(t, "110", d.CallerNumber)
}

func TestCompleteWithoutSummarizer(t *testing.T) {
	b := builder(t, nil)
	d := b.Complete(context.Background(), Input{CallID: "c", Text: []string{"垃圾三天没人收了"}})
	require.True(t, d.Complete)
	require.Equal(t, SourceExtractive, d.SummarySource)
	require.Contains(t, d.Summary, "垃圾三天没人收了")
}

// Whatever the recogniser hands over, a draft is built and holds only what can be checked
// against the text.
func FuzzLive(f *testing.F) {
	b := builder(f, nil)
	f.Add("我们阳光花园三号楼从昨天晚上十点就停水了，电话幺三八零五八零幺二三四")
	f.Add("没有着火万一着火")
	f.Add("\xff\xfe幺幺幺幺幺幺幺幺幺幺幺幺")
	f.Fuzz(func(t *testing.T, text string) {
		d := b.Live(Input{Text: []string{text}})
		if d.CallbackNumber != "" && (len(d.CallbackNumber) < 10 || strings.Trim(d.CallbackNumber, "0123456789") != "") {
			t.Fatalf("callback %q from %q", d.CallbackNumber, text)
		}
		if d.EventTime != "" && !strings.Contains(text, d.EventTime) {
			t.Fatalf("event time %q not in %q", d.EventTime, text)
		}
		if d.Summary != "" && !strings.Contains(d.Summary, "市民来电反映：") {
			t.Fatalf("summary %q", d.Summary)
		}
	})
}
