// Package lang helps adapters put a line's BCP-47 language into an engine's own form.
package lang

import "strings"

// Base is the lower-cased primary subtag: "zh" for "zh-CN", "" for "".
func Base(tag string) string {
	b, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return b
}

// Lookup finds tag in a per-language setting: the exact tag first (case-insensitive),
// then its primary subtag ("zh-CN" falls back to "zh").
func Lookup(m map[string]string, tag string) (string, bool) {
	if tag == "" || len(m) == 0 {
		return "", false
	}
	for k, v := range m {
		if strings.EqualFold(k, tag) {
			return v, true
		}
	}
	for k, v := range m {
		if strings.EqualFold(k, Base(tag)) {
			return v, true
		}
	}
	return "", false
}
