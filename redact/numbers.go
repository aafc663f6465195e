package redact

// Validators for the four kinds of personal number. Each takes the digit string of one
// candidate ('0'…'9', and 'X' for a spoken or written X), already stripped of separators.

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// IDCheckChar returns the GB 11643 check character ('0'…'9' or 'X') of the first 17 digits of
// an ID card number, or 0 when they are not 17 ASCII digits.
func IDCheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	// GB 11643-1999 weighs the i-th character (from 0) by 2^(17-i) mod 11: 7, 9, 10, 5, … 2.
	sum, w := 0, 2
	for i := 16; i >= 0; i-- {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * w
		w = w * 2 % 11
	}
	return idCheckChars[sum%11]
}

// validID says whether d is an 18-character resident ID number with a valid check character.
func validID(d string) bool {
	return len(d) == 18 && IDCheckChar(d[:17]) == d[17]
}

// plausibleBirth says whether an ID number's birth date (characters 7–14) looks like a date
// of the last 130 years; it only breaks ties with bank card numbers, which carry no date.
func plausibleBirth(d string) bool {
	y := atoi(d[6:10])
	m := atoi(d[10:12])
	day := atoi(d[12:14])
	return y >= 1900 && y <= 2030 && m >= 1 && m <= 12 && day >= 1 && day <= 31
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// LuhnValid reports whether the ASCII digit string d passes the Luhn (mod 10) check.
func LuhnValid(d string) bool {
	if d == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		v := int(c - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// validBank says whether d is a 16–19 digit payment card number: Luhn-valid and with a first
// digit used by card schemes in China (3 JCB/Amex, 4 Visa, 5 Mastercard, 6 UnionPay, 9 old
// domestic debit cards). The prefix test keeps dates and serial numbers starting 1, 2 or 0 out.
func validBank(d string) bool {
	if len(d) < 16 || len(d) > 19 || !allDigits(d) {
		return false
	}
	switch d[0] {
	case '3', '4', '5', '6', '9':
		return LuhnValid(d)
	}
	return false
}

// validMobile says whether d is a mainland mobile number: 1[3-9] and nine more digits,
// optionally after 0 (dialled from another area), 86 or 0086.
func validMobile(d string) bool {
	if !allDigits(d) {
		return false
	}
	switch {
	case len(d) == 12 && d[0] == '0':
		d = d[1:]
	case len(d) == 13 && d[:2] == "86":
		d = d[2:]
	case len(d) == 15 && d[:4] == "0086":
		d = d[4:]
	}
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// validLandline says whether d is a landline with its area code: 010 or 02x and 8 digits, or
// a four-digit code 0[3-9]xx and 7 or 8 digits; local numbers never start with 0 or 1.
func validLandline(d string) bool {
	if len(d) < 11 || len(d) > 12 || d[0] != '0' || !allDigits(d) {
		return false
	}
	local := ""
	switch {
	case d[1] == '1':
		if d[2] != '0' {
			return false
		}
		local = d[3:]
	case d[1] == '2':
		local = d[3:]
	default:
		local = d[4:]
	}
	return validLocal(local) && (d[1] > '2' || len(local) == 8)
}

// validLocal says whether d is a local landline number without its area code.
func validLocal(d string) bool {
	return (len(d) == 7 || len(d) == 8) && d[0] >= '2' && d[0] <= '9' && allDigits(d)
}

func allDigits(d string) bool {
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}
