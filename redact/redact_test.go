package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// want is an expected span, named by the exact text it covers in the line.
type want struct {
	kind Kind
	text string
}

// runeSpan finds text in line and returns its rune offsets.
func runeSpan(t *testing.T, line, text string) (int, int) {
	t.Helper()
	i := strings.Index(line, text)
	require.GreaterOrEqual(t, i, 0, "%q not in %q", text, line)
	start := utf8.RuneCountInString(line[:i])
	return start, start + utf8.RuneCountInString(text)
}

// The numbers below pass their checks: 330902198503120018, 11010519491231002X and
// 330921197011052332 (GB 11643), 6222021234567890128, 6217000012345678907 and
// 9558801602001234568 (Luhn).
func TestFindSpokenAndWritten(t *testing.T) {
	cases := []struct {
		line string
		want []want
	}{
		{"喂你好，我手机号是幺三八，嗯，零五八零，幺二三四，你记一下", []want{{Mobile, "幺三八，嗯，零五八零，幺二三四"}}},
		{"我电话 138 0580 1234 有事打我", []want{{Mobile, "138 0580 1234"}}},
		{"我号码幺38 0580 一二三四", []want{{Mobile, "幺38 0580 一二三四"}}},
		{"我手机是幺五九，那个，八八六七，嗯，四四二一", []want{{Mobile, "幺五九，那个，八八六七，嗯，四四二一"}}},
		{"幺三八，嗯，嗯，那个，零五八零幺二三四", []want{{Mobile, "幺三八，嗯，嗯，那个，零五八零幺二三四"}}},
		{"呃手机要三八零五八零要二三四就这个", []want{{Mobile, "要三八零五八零要二三四"}}},
		{"幺三八两零五八零幺二三是我老公的", []want{{Mobile, "幺三八两零五八零幺二三"}}},
		{"+86 138 0580 1234", []want{{Mobile, "+86 138 0580 1234"[1:]}}},
		{"１３８０５８０１２３４", []want{{Mobile, "１３８０５８０１２３４"}}},
		{"1 3 8 0 5 8 0 1 2 3 4", []want{{Mobile, "1 3 8 0 5 8 0 1 2 3 4"}}},
		{"身份证号码是三三零九零二 一九八五零三一二 零零一八", []want{{IDCard, "三三零九零二 一九八五零三一二 零零一八"}}},
		{"我身份证是11010519491231002叉", []want{{IDCard, "11010519491231002叉"}}},
		{"证件号 1101 0519 4912 3100 2X 对", []want{{IDCard, "1101 0519 4912 3100 2X"}}},
		{"幺幺零幺零五幺九四九幺二三幺零零二叉", []want{{IDCard, "幺幺零幺零五幺九四九幺二三幺零零二叉"}}},
		{"他的是330921197011052332。", []want{{IDCard, "330921197011052332"}}},
		{"身份证330921-1970-11-05-2332", []want{{IDCard, "330921-1970-11-05-2332"}}},
		{"座机是零五八零，二六零，幺二三四", []want{{Landline, "零五八零，二六零，幺二三四"}}},
		{"你打这个0580-2601234也行", []want{{Landline, "0580-2601234"}}},
		{"单位电话0580-2601234分机8001", []want{{Landline, "0580-2601234"}}},
		{"幺三八洞五八洞幺二三四，拐弯那家", []want{{Mobile, "幺三八洞五八洞幺二三四"}}},
		{"办公室(0571)87654321", []want{{Landline, "0571)87654321"}}},
		{"家里电话是2601234", []want{{Landline, "2601234"}}},
		{"我的卡号是6222 0212 3456 7890 128，工行的", []want{{BankCard, "6222 0212 3456 7890 128"}}},
		{"银行卡 六二一七 零零零零 幺二三四 五六七八 九零七", []want{{BankCard, "六二一七 零零零零 幺二三四 五六七八 九零七"}}},
		{"存折号9558 8016 0200 1234 568", []want{{BankCard, "9558 8016 0200 1234 568"}}},
		// Its first 16 digits pass Luhn too, and it ends in 114, a service number.
		{"卡号是6250 48548 3393 267 114，对", []want{{BankCard, "6250 48548 3393 267 114"}}},
		{"工资卡是六二二二零二幺二三四五六七八九零幺二", []want{{BankCard, "六二二二零二幺二三四五六七八九零幺二"}}},
		// Two numbers in one breath, and an ordinary one before them.
		{"手机13805801234，座机0580-2601234", []want{{Mobile, "13805801234"}, {Landline, "0580-2601234"}}},
		{"我打12345，13805801234是我的号", []want{{Mobile, "13805801234"}}},
		{"我住1502，嗯，13805801234", []want{{Mobile, "13805801234"}}},
		// Slips: a group said twice, the end said again, a digit the recogniser doubled.
		{"手机号幺三八，幺三八零五八零幺二三四", []want{{Mobile, "幺三八，幺三八零五八零幺二三四"}}},
		{"幺三八幺三八零五八零幺二三四", []want{{Mobile, "幺三八幺三八零五八零幺二三四"}}},
		{"号码是13805801234，1234对吧", []want{{Mobile, "13805801234，1234"}}},
		{"幺三八，零五八零，零五八零，幺二三四", []want{{Mobile, "幺三八，零五八零，零五八零，幺二三四"}}},
		{"手机号幺三八八零五八零幺二三四", []want{{Mobile, "幺三八八零五八零幺二三四"}}},
		// A number interrupted by a few words, and a dash said as 杠.
		{"手机幺三八，我看一下啊，零五八零幺二三四", []want{{Mobile, "幺三八，我看一下啊，零五八零幺二三四"}}},
		{"幺三八零五八零，等一下，幺二三四", []want{{Mobile, "幺三八零五八零，等一下，幺二三四"}}},
		{"座机零五八零杠二六零幺二三四", []want{{Landline, "零五八零杠二六零幺二三四"}}},
		{"区号0580，号码2601234", []want{{Landline, "0580，号码2601234"}}},
		{"有事你打2601234找我", []want{{Landline, "2601234"}}},
		// A digit misheard: the check fails, but the words before say what it is.
		{"身份证三三零九零二一九八五零三一二零零一叉", []want{{IDCard, "三三零九零二一九八五零三一二零零一叉"}}},
		{"手机号幺二八零五八零幺二三四", []want{{Mobile, "幺二八零五八零幺二三四"}}},
		{"卡号是六二二二零二幺二三四五六七八", []want{{BankCard, "六二二二零二幺二三四五六七八"}}},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			got := Find(tc.line)
			var exp []Span
			for _, w := range tc.want {
				a, b := runeSpan(t, tc.line, w.text)
				exp = append(exp, Span{Kind: w.kind, Start: a, End: b})
			}
			require.Equal(t, exp, got)
			masked, _ := Redact(tc.line)
			require.Equal(t, utf8.RuneCountInString(tc.line), utf8.RuneCountInString(masked))
			for _, w := range tc.want {
				require.NotContains(t, masked, w.text)
			}
		})
	}
}

// Ordinary numbers in what callers say must come back untouched.
func TestOrdinaryNumbersStay(t *testing.T) {
	lines := []string{
		"我住在3号楼2单元1502室",
		"幸福小区十二幢三单元一五零二",
		"二零二六年十二月六号下午三点",
		"今天是2026-12-06，13:05打过来的",
		"房租三千五百块，押金5000元，一共八千五",
		"我打了好几次12345，还有110，都没人管",
		"坐12路公交到人民路站，再换158路",
		"工单号是2026120600123，你帮我查一下",
		"工单号码是幺三八零五八零幺二三四",
		"订单号 6222021234567890128",
		"快递单号SF1234567890123一直没动",
		"邮编316000，舟山市定海区",
		"我们小区有两百多户，一百二十三个人",
		"我要一个说法，两个月了，两两三三的来问",
		"一二三四五六七八九十",
		"车牌浙L12345，停在2号门",
		"1号线换乘2号线，第三站",
		"面积是一百三十八平方，单价一万三",
		"价格是13.8元，涨到了15.5元",
		"嗯嗯啊啊，一下子就没了",
		"二零二六 一二 零六那天停的水",
		"2021-11-08，嗯，2019-03-05。2011-10-16，三次",
		"22:05。2025-04-04，2014-11-06，嗯，二零零三年。",
		"一六幢一六四，12315 120，手机尾号1058。",
		"一一幢一一九三，嗯，12345。182户",
		"那个编号是20261206",
		"QQ号码是35678912，发票号码是26012345",
		"准考证号是330902198503120",
		"叉车把路堵了，XX公司的",
		"我住幺五零二，我想一下，三楼的幺二三四",
		"等了十五分钟，一三八路车，我看看，零五八零那班",
		"",
	}
	for _, line := range lines {
		t.Run(line, func(t *testing.T) {
			require.Empty(t, Find(line))
			got, spans := Redact(line)
			require.Empty(t, spans)
			require.Equal(t, line, got)
		})
	}
}

func TestMask(t *testing.T) {
	require.Equal(t, "ab**e", Mask("abcde", []Span{{Kind: Mobile, Start: 2, End: 4}}))
	require.Equal(t, "号***", Mask("号是码吗", []Span{{Start: 1, End: 3}, {Start: 3, End: 9}}), "a span past the end is clipped")
	require.Equal(t, "abc", Mask("abc", nil))
}

func TestValidators(t *testing.T) {
	require.Equal(t, byte('8'), IDCheckChar("33090219850312001"))
	require.Equal(t, byte('X'), IDCheckChar("11010519491231002"))
	require.Equal(t, byte(0), IDCheckChar("1101051949123100"))
	require.Equal(t, byte(0), IDCheckChar("1101051949123100a"))
	require.True(t, LuhnValid("6222021234567890128"))
	require.False(t, LuhnValid("6222021234567890127"))
	require.False(t, LuhnValid(""))
	require.False(t, LuhnValid("12a4"))
	for _, d := range []string{"13805801234", "013805801234", "8613805801234", "008613805801234"} {
		require.True(t, validMobile(d), d)
	}
	for _, d := range []string{"12805801234", "1380580123", "23805801234"} {
		require.False(t, validMobile(d), d)
	}
	for _, d := range []string{"05802601234", "058026012345", "01087654321", "02187654321"} {
		require.True(t, validLandline(d), d)
	}
	for _, d := range []string{"0102601234", "0212601234", "01187654321", "05801601234", "0580260123"} {
		require.False(t, validLandline(d), d)
	}
}

// A long line of numbers is read number by number: every one found, none merged with its
// neighbour (a line of classify's 1 MiB limit is handled in well under a second).
func TestLongLineOfNumbers(t *testing.T) {
	const n = 20000
	line := strings.Repeat("13805801234 ", n) + strings.Repeat("1 ", n)
	spans := Find(line)
	require.Len(t, spans, n)
	for i, s := range spans {
		require.Equal(t, Span{Kind: Mobile, Start: 12 * i, End: 12*i + 11}, s)
	}
}
