package workorder

import (
	"strings"
	"testing"
)

// A masked order keeps no personal number a destination should not hold, and keeps the
// rest of the order.
func TestMaskedFields(t *testing.T) {
	f := Fields{CallerNumber: "13905801111", CallbackNumber: "13812345678", Department: "water",
		Address: "阳光花园3号楼2单元501室", Summary: "市民来电反映：阳光花园停水三天。诉求：尽快恢复。回电13812345678，身份证330102199003077777",
		Place: "阳光花园"}
	m := f.Masked()
	for _, s := range []string{m.CallerNumber, m.CallbackNumber, m.Summary, m.Address, m.Place} {
		for _, num := range []string{"13905801111", "13812345678", "330102199003077777"} {
			if strings.Contains(s, num) {
				t.Fatalf("%q still holds %s", s, num)
			}
		}
	}
	if m.CallbackNumber != "*********78" || m.Department != "water" || !strings.Contains(m.Summary, "阳光花园停水三天") {
		t.Fatalf("masked too much or too little: %+v", m)
	}
	if m.Address != f.Address {
		t.Fatalf("a room number is not personal data: %q", m.Address)
	}
}
