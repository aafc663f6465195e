package dispatch

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed taxonomy.yaml
var builtinTaxonomy []byte

// Department is one dispatch target of the taxonomy.
type Department struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	NameEN   string   `yaml:"name_en"`
	Keywords []string `yaml:"keywords"`
}

// Rule is a tie-break boost: when every All group has a term in the text and no None term
// is there, each department in Boost gets that much added to its logit.
type Rule struct {
	Name  string             `yaml:"name"`
	Note  string             `yaml:"note"`
	All   [][]string         `yaml:"all"`
	None  []string           `yaml:"none"`
	Boost map[string]float64 `yaml:"boost"`
}

// Taxonomy is the project's department config: ids, names, keywords and rules.
type Taxonomy struct {
	Version      int          `yaml:"version"`
	KeywordBoost float64      `yaml:"keyword_boost"`
	KeywordCap   int          `yaml:"keyword_cap"`
	Departments  []Department `yaml:"departments"`
	Rules        []Rule       `yaml:"rules"`

	index map[string]int
	terms termIndex
}

// termIndex groups every keyword and rule term by how a text is searched for it: Chinese
// terms by their first two characters (looked up from the text's n-grams), English terms
// (only searched when the text has Latin letters), and the rest.
type termIndex struct {
	heads map[string][]string
	latin []string
	other []string
}

func (ti *termIndex) add(term string) {
	r := []rune(term)
	switch {
	case isASCII(term):
		ti.latin = append(ti.latin, term)
	case len(r) >= 2 && isHan(r[0]) && isHan(r[1]):
		h := string(r[:2])
		for _, t := range ti.heads[h] {
			if t == term {
				return
			}
		}
		ti.heads[h] = append(ti.heads[h], term)
	default:
		ti.other = append(ti.other, term)
	}
}

// DefaultTaxonomy returns the taxonomy embedded in the binary.
func DefaultTaxonomy() (*Taxonomy, error) {
	return ParseTaxonomy(builtinTaxonomy)
}

// LoadTaxonomy reads a taxonomy config file.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dispatch: taxonomy: %w", err)
	}
	t, err := ParseTaxonomy(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return t, nil
}

// ParseTaxonomy parses and validates a taxonomy config.
func ParseTaxonomy(b []byte) (*Taxonomy, error) {
	var t Taxonomy
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("dispatch: taxonomy: %w", err)
	}
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("dispatch: taxonomy: %w", err)
	}
	return &t, nil
}

func (t *Taxonomy) validate() error {
	if t.Version != 1 {
		return fmt.Errorf("unsupported version %d (want 1)", t.Version)
	}
	if len(t.Departments) < 2 {
		return errors.New("needs at least two departments")
	}
	if t.KeywordCap < 0 || t.KeywordBoost < 0 {
		return errors.New("keyword_boost and keyword_cap must not be negative")
	}
	t.index = make(map[string]int, len(t.Departments))
	t.terms = termIndex{heads: map[string][]string{}}
	for i := range t.Departments {
		d := &t.Departments[i]
		if d.ID == "" || d.Name == "" {
			return fmt.Errorf("department %d: id and name are required", i+1)
		}
		if _, dup := t.index[d.ID]; dup {
			return fmt.Errorf("department %q listed twice", d.ID)
		}
		t.index[d.ID] = i
		d.Keywords = normalizeTerms(d.Keywords)
		for _, k := range d.Keywords {
			t.terms.add(k)
		}
	}
	for i := range t.Rules {
		r := &t.Rules[i]
		if r.Name == "" || len(r.All) == 0 || len(r.Boost) == 0 {
			return fmt.Errorf("rule %d: name, all and boost are required", i+1)
		}
		for id := range r.Boost {
			if _, ok := t.index[id]; !ok {
				return fmt.Errorf("rule %q boosts unknown department %q", r.Name, id)
			}
		}
		for j := range r.All {
			if r.All[j] = normalizeTerms(r.All[j]); len(r.All[j]) == 0 {
				return fmt.Errorf("rule %q: group %d is empty", r.Name, j+1)
			}
		}
		r.None = normalizeTerms(r.None)
		for _, term := range r.None {
			t.terms.add(term)
		}
		for _, g := range r.All {
			for _, term := range g {
				t.terms.add(term)
			}
		}
	}
	return nil
}

// Index returns the position of a department id, or -1.
func (t *Taxonomy) Index(id string) int {
	if i, ok := t.index[id]; ok {
		return i
	}
	return -1
}

// IDs returns the department ids in config order.
func (t *Taxonomy) IDs() []string {
	ids := make([]string, len(t.Departments))
	for i, d := range t.Departments {
		ids[i] = d.ID
	}
	return ids
}

func normalizeTerms(terms []string) []string {
	out := terms[:0]
	for _, s := range terms {
		if s = strings.TrimSpace(normalize(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// termIn reports where term occurs in the normalised text: Chinese terms anywhere, English
// terms only at the start of a word.
func termIn(text, term string) int {
	if !isASCII(term) {
		return strings.Index(text, term)
	}
	for off := 0; ; {
		i := strings.Index(text[off:], term)
		if i < 0 {
			return -1
		}
		at := off + i
		if at == 0 || !isWordByte(text[at-1]) {
			return at
		}
		off = at + 1
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '\''
}
