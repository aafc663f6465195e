package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"lianxin/redact"
)

func decodeRedact(t *testing.T, out string) []redactOut {
	t.Helper()
	var res []redactOut
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var o redactOut
		require.NoError(t, json.Unmarshal([]byte(line), &o), line)
		res = append(res, o)
	}
	return res
}

func TestRedactStdin(t *testing.T) {
	stdin := "我手机号是幺三八，嗯，零五八零，幺二三四\n" +
		"\n" +
		"我住3号楼1502室，打了12345\r\n" +
		"卡\xff号6222 0212 3456 7890 128\n" +
		"身份证11010519491231002X" // no final newline
	rc, out, errs := runCLI(t, stdin, "redact")
	require.Equal(t, 0, rc, errs)
	require.Contains(t, out, `"spans":[]`, "an empty list, not null")
	res := decodeRedact(t, out)
	require.Len(t, res, 5, "one answer per input line")

	require.Equal(t, "我手机号是***************", res[0].Text)
	require.Equal(t, []redact.Span{{Kind: redact.Mobile, Start: 5, End: 20}}, res[0].Spans)
	require.Equal(t, "", res[1].Text)
	require.Empty(t, res[1].Spans)
	require.Equal(t, "我住3号楼1502室，打了12345", res[2].Text, "ordinary numbers untouched, CR dropped")
	require.Empty(t, res[2].Spans)
	// The invalid byte is one replacement character, and offsets count it as one.
	require.Equal(t, "卡\uFFFD号***********************", res[3].Text)
	require.Equal(t, []redact.Span{{Kind: redact.BankCard, Start: 3, End: 26}}, res[3].Spans)
	require.Equal(t, []redact.Span{{Kind: redact.IDCard, Start: 3, End: 21}}, res[4].Spans)
}

func TestRedactArgs(t *testing.T) {
	rc, out, errs := runCLI(t, "ignored 13805801234\n", "redact", "电话0580-2601234", "没有号码")
	require.Equal(t, 0, rc, errs)
	res := decodeRedact(t, out)
	require.Len(t, res, 2)
	require.Equal(t, "电话************", res[0].Text)
	require.Equal(t, redact.Landline, res[0].Spans[0].Kind)
	require.Equal(t, "没有号码", res[1].Text)
}

// A line over the limit is cut, redacted as far as it was read and marked truncated; the
// next line is read as usual.
func TestRedactLineLimit(t *testing.T) {
	long := "13805801234 " + strings.Repeat("停", maxRedactLine)
	rc, out, errs := runCLI(t, long+"\n手机13805801234\n", "redact")
	require.Equal(t, 0, rc, errs)
	res := decodeRedact(t, out)
	require.Len(t, res, 2)
	require.True(t, res[0].Truncated)
	require.True(t, strings.HasPrefix(res[0].Text, "*********** 停"))
	require.LessOrEqual(t, len(res[0].Text), maxRedactLine+3, "cut at the limit (a split rune becomes one U+FFFD)")
	require.Less(t, utf8.RuneCountInString(res[0].Text), utf8.RuneCountInString(long))
	require.False(t, res[1].Truncated)
	require.Equal(t, "手机***********", res[1].Text)
}

func TestRedactBadFlag(t *testing.T) {
	rc, _, errs := runCLI(t, "", "redact", "--nope")
	require.Equal(t, 2, rc)
	require.Contains(t, errs, "usage: gateway redact")
}

func TestRedactReadError(t *testing.T) {
	var out, errb strings.Builder
	rc := run(context.Background(), []string{"redact"}, io.MultiReader(strings.NewReader("手机13805801234\n"), iotest.ErrReader(errors.New("disk gone"))), &out, &errb)
	require.Equal(t, 1, rc)
	require.Contains(t, errb.String(), "gateway redact: reading stdin: disk gone")
	require.Equal(t, "手机***********", decodeRedact(t, out.String())[0].Text, "lines read before the error are answered")
}
