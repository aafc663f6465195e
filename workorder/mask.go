package workorder

import "lianxin/redact"

// Masked is f for a destination that must not hold callers' personal numbers: the caller
// and callback numbers masked whole, ID, phone and bank card numbers in the free text
// masked where redact finds them. The order's other facts stay.
func (f Fields) Masked() Fields {
	f.CallerNumber = maskAll(f.CallerNumber)
	f.CallbackNumber = maskAll(f.CallbackNumber)
	f.Place, _ = redact.Redact(f.Place)
	f.Address, _ = redact.Redact(f.Address)
	f.Summary, _ = redact.Redact(f.Summary)
	return f
}

// maskAll keeps a number's length and last two digits, as hotlines print them (138******34).
func maskAll(s string) string {
	r := []rune(s)
	for i := range r {
		if i < len(r)-2 && r[i] >= '0' && r[i] <= '9' {
			r[i] = '*'
		}
	}
	return string(r)
}
