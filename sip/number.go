package sip

import (
	"net/url"
	"regexp"
	"strings"
)

// NumberPlan turns the ways a trunk writes a dialled number (+86 580 12345, +8658012345,
// 0580-12345, 058012345, tel:+86-580-12345, 008658012345) into the number the gateway's
// lines use: the local number when it is in the plan's area (12345), else the national
// form with its trunk prefix (010…), else the international form (+1…). Zero fields take
// the defaults of withDefaults: China's country code and prefixes, no area code.
type NumberPlan struct {
	// CountryCode is the gateway's country (default 86).
	CountryCode string
	// AreaCode is the gateway's area code without the trunk prefix (e.g. 580); numbers in
	// it lose it. Empty: none is removed.
	AreaCode string
	// InternationalPrefix (default 00) and NationalPrefix (default 0) are dialled before a
	// country code and before an area code.
	InternationalPrefix string
	NationalPrefix      string
	// Strip are prefixes a trunk puts before the number (a carrier's routing or carrier
	// select code such as 17909): the first that matches is removed, before anything else.
	Strip []string
	// Rewrite rules run after Strip, in order: the first whose Match matches replaces the
	// number with Replace ($1… name Match's groups).
	Rewrite []NumberRewrite
}

// NumberRewrite is one rewrite rule of a NumberPlan.
type NumberRewrite struct {
	Match   *regexp.Regexp
	Replace string
}

func (p NumberPlan) withDefaults() NumberPlan {
	if p.CountryCode == "" {
		p.CountryCode = "86"
	}
	if p.InternationalPrefix == "" {
		p.InternationalPrefix = "00"
	}
	if p.NationalPrefix == "" {
		p.NationalPrefix = "0"
	}
	return p
}

// Normalize is the line number that dialled reaches. Something that is not a telephone
// number after the trunk's own rules (a name such as "service") comes back cleaned of
// URI parameters and escapes only.
func (p NumberPlan) Normalize(dialled string) string {
	p = p.withDefaults()
	n := cleanNumber(dialled)
	for _, s := range p.Strip {
		if rest, ok := strings.CutPrefix(n, s); ok && rest != "" {
			n = rest
			break
		}
	}
	for _, r := range p.Rewrite {
		if r.Match != nil && r.Match.MatchString(n) {
			n = r.Match.ReplaceAllString(n, r.Replace)
			break
		}
	}
	if !isPhoneNumber(n) {
		return n
	}
	var nsn string // the national significant number: area code and local number
	switch intl, isIntl := p.international(n); {
	case isIntl:
		rest, ok := strings.CutPrefix(intl, p.CountryCode)
		if !ok || rest == "" {
			return "+" + intl // another country's number
		}
		// +86 0580 12345 is a common way of miswriting +86 580 12345
		if r, ok := strings.CutPrefix(rest, p.NationalPrefix); ok && r != "" {
			rest = r
		}
		if strings.HasPrefix(rest, p.NationalPrefix) {
			return "+" + intl // no national number starts so: leave it as it came
		}
		nsn = rest
	case strings.HasPrefix(n, p.NationalPrefix) && len(n) > len(p.NationalPrefix):
		nsn = n[len(p.NationalPrefix):]
	default:
		return n // dialled as a local number already
	}
	if p.AreaCode != "" {
		// a local number never starts with the trunk prefix: one that would stays national
		if local, ok := strings.CutPrefix(nsn, p.AreaCode); ok && local != "" && !strings.HasPrefix(local, p.NationalPrefix) {
			return local
		}
	}
	return p.NationalPrefix + nsn
}

// international returns the digits after "+" or the international prefix.
func (p NumberPlan) international(n string) (string, bool) {
	if rest, ok := strings.CutPrefix(n, "+"); ok {
		return rest, true
	}
	if rest, ok := strings.CutPrefix(n, p.InternationalPrefix); ok && rest != "" {
		return rest, true
	}
	return "", false
}

// cleanNumber undoes what URIs do to a number: %-escapes (a space is %20), a tel: scheme,
// parameters after ";" (phone-context, isub) and RFC 3966 visual separators.
func cleanNumber(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	s = strings.TrimSpace(s)
	if len(s) > 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	s, _, _ = strings.Cut(s, ";")
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			return -1
		}
		return r
	}, s)
}

// isPhoneNumber reports whether n is digits, with at most a leading "+".
func isPhoneNumber(n string) bool {
	n = strings.TrimPrefix(n, "+")
	if n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
