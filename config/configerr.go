package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// yaml.v3 names Go types in its errors ("field foo not found in type config.SIPConfig",
// "cannot unmarshal !!int `15` into time.Duration"); an operator needs the config's own
// words: the section, its valid keys, the unit a duration wants.
var (
	reUnknownField = regexp.MustCompile("field (\\S+) not found in type (\\S+)")
	reBadValue     = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// explainConfigError rewrites yaml.v3's type errors in the config's terms.
func explainConfigError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	sections := configSections()
	lines := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		lines[i] = explainLine(e, sections)
	}
	return errors.New(strings.Join(lines, "; "))
}

func explainLine(e string, sections map[string]section) string {
	if m := reUnknownField.FindStringSubmatch(e); m != nil {
		if s, ok := sections[m[2]]; ok {
			return reUnknownField.ReplaceAllString(e, fmt.Sprintf("unknown key %q in %s (valid keys: %s)",
				m[1], s.path, strings.Join(s.keys, ", ")))
		}
	}
	if m := reBadValue.FindStringSubmatch(e); m != nil {
		want := m[3]
		switch {
		case want == "time.Duration":
			want = fmt.Sprintf("a duration with its unit, e.g. %ss or %sms", m[2], m[2])
		case sections[want].path != "":
			want = "a mapping (the " + sections[want].path + " section)"
		}
		return reBadValue.ReplaceAllString(e, fmt.Sprintf("%q is not %s", m[2], want))
	}
	return e
}

type section struct {
	path string
	keys []string
}

// configSections maps each struct type of Config ("config.SIPConfig") to its place in the
// file ("sip") and its keys.
func configSections() map[string]section {
	out := map[string]section{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
			return
		}
		var keys []string
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			keys = append(keys, key)
			walk(f.Type, strings.TrimPrefix(path+"."+key, "."))
		}
		sort.Strings(keys)
		name := t.String()
		if path == "" {
			path = "the top level"
		}
		if _, seen := out[name]; !seen {
			out[name] = section{path: path, keys: keys}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}
