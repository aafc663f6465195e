package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzRedact feeds any text, valid UTF-8 or not: spans stay well formed, masking keeps the
// rune count and masks exactly the spans, and text without spans comes back unchanged.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"我手机号是幺三八，嗯，零五八零，幺二三四", "身份证11010519491231002叉", "座机0580-2601234",
		"卡号6222 0212 3456 7890 128", "二零二六年十二月六号", "要两两要", "X叉xX", "那个艾克斯",
		"工单号码是幺三八零五八零幺二三四", "\xff\xfe幺三八零五八零幺二三四\xff", "１３８０５８０１２３４",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		masked, spans := Redact(text)
		checkSpans(t, text, spans)
		require.Equal(t, utf8.RuneCountInString(text), utf8.RuneCountInString(masked))
		if len(spans) == 0 {
			require.Equal(t, text, masked)
			return
		}
		mr := []rune(masked)
		for _, s := range spans {
			require.Equal(t, strings.Repeat(string(MaskRune), s.End-s.Start), string(mr[s.Start:s.End]))
		}
	})
}
