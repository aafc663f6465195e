package lang

import "testing"

func TestLookup(t *testing.T) {
	m := map[string]string{"zh": "cn-model", "zh-HK": "yue-model", "EN": "en-model"}
	for tag, want := range map[string]string{"zh-CN": "cn-model", "zh-hk": "yue-model", "zh": "cn-model", "en-US": "en-model", "fr": "", "": ""} {
		if got, _ := Lookup(m, tag); got != want {
			t.Errorf("Lookup(%q) = %q, want %q", tag, got, want)
		}
	}
	if Base("zh-Hans-CN") != "zh" || Base("") != "" {
		t.Error("Base")
	}
}
