package sip

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNumberPlanNormalize(t *testing.T) {
	lishui := NumberPlan{AreaCode: "580"}
	carrier := NumberPlan{AreaCode: "580", Strip: []string{"17909"},
		Rewrite: []NumberRewrite{{Match: regexp.MustCompile(`^86(580\d+)$`), Replace: "0$1"}}}
	for _, tc := range []struct {
		plan          NumberPlan
		dialled, want string
	}{
		{lishui, "+86 580 12345", "12345"},
		{lishui, "%2B86%20580%2012345", "12345"},
		{lishui, "+8658012345", "12345"},
		{lishui, "0580-12345", "12345"},
		{lishui, "058012345", "12345"},
		{lishui, "tel:+86-580-12345", "12345"},
		{lishui, "+86-580-12345", "12345"},
		{lishui, "+86-580-12345;phone-context=+86", "12345"},
		{lishui, "008658012345", "12345"},
		{lishui, "+86 0580 12345", "12345"},
		{lishui, "0580000", "0580000"},
		{lishui, "(0580) 12366", "12366"},
		{lishui, "12345", "12345"},
		// another area keeps its trunk prefix, another country its +
		{lishui, "+861012345", "01012345"},
		{lishui, "01012345", "01012345"},
		{lishui, "+4420712345", "+4420712345"},
		// without an area code only the country goes
		{NumberPlan{}, "+8658012345", "058012345"},
		{NumberPlan{}, "12345", "12345"},
		// a number without digits after a prefix is left as it is
		{lishui, "0", "0"},
		{lishui, "+", "+"},
		{lishui, "0580", "0580"},
		// names are no numbers
		{lishui, "service", "service"},
		{lishui, "", ""},
		// a carrier's select code and its own habit of 86 without +
		{carrier, "1790958012345", "58012345"},
		{carrier, "17909058012345", "12345"},
		{carrier, "8658012345", "12345"},
		{carrier, "17909", "17909"},
	} {
		require.Equal(t, tc.want, tc.plan.Normalize(tc.dialled), "%q with %+v", tc.dialled, tc.plan)
	}
}

// Any Request-URI user part normalises without a panic, to a number that normalising again
// leaves as it is.
func FuzzNumberNormalize(f *testing.F) {
	for _, s := range []string{"+86 580 12345", "%2B86%20580%2012345", "0580-12345", "tel:+86-580-12345", "008658012345",
		"+4420712345", "service", "%", ";", "0", "+", "00", "(0580) 12366;isub=1"} {
		f.Add(s)
	}
	plan := NumberPlan{AreaCode: "580"}
	f.Fuzz(func(t *testing.T, dialled string) {
		n := plan.Normalize(dialled)
		if isPhoneNumber(n) {
			require.Equal(t, n, plan.Normalize(n), "from %q", dialled)
		}
	})
}
