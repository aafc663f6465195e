package dispatch

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed issues.yaml
var builtinIssues []byte

// Issue scopes: how precisely two calls' places must agree to be one hotspot.
const (
	ScopeBuilding = "building" // one building of a compound (a lift, a gas smell)
	ScopeSite     = "site"     // one compound, market, school or village
	ScopeRoad     = "road"     // one road or street, whichever shop or compound along it
	ScopeNone     = "none"     // not tied to a place; grouped like site when a place is named
)

// Issue is one issue type (事项), the taxonomy's second level under the departments.
type Issue struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	NameEN      string   `yaml:"name_en"`
	Department  string   `yaml:"department"`
	Also        []string `yaml:"also"` // alternative owners under the tie-break rules
	Scope       string   `yaml:"scope"`
	Description string   `yaml:"description"`
	Not         string   `yaml:"not"`
	Related     []string `yaml:"related"`
	Keywords    []string `yaml:"keywords"`
	Examples    []string `yaml:"examples"`
}

// Issues is the issue-type config: the types, their keywords and how much a keyword counts.
type Issues struct {
	Version      int     `yaml:"version"`
	KeywordBoost float64 `yaml:"keyword_boost"`
	KeywordCap   int     `yaml:"keyword_cap"`
	Types        []Issue `yaml:"issues"`
	// Rules are tie-breaks, as in the department taxonomy, with issue ids in Boost.
	Rules []Rule `yaml:"rules"`

	index map[string]int
}

// DefaultIssues returns the issue types embedded in the binary.
func DefaultIssues() (*Issues, error) { return ParseIssues(builtinIssues) }

// LoadIssues reads an issue-type config file.
func LoadIssues(path string) (*Issues, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dispatch: issues: %w", err)
	}
	is, err := ParseIssues(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return is, nil
}

// ParseIssues parses and validates an issue-type config.
func ParseIssues(b []byte) (*Issues, error) {
	var is Issues
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&is); err != nil {
		return nil, fmt.Errorf("dispatch: issues: %w", err)
	}
	if err := is.validate(); err != nil {
		return nil, fmt.Errorf("dispatch: issues: %w", err)
	}
	return &is, nil
}

func (is *Issues) validate() error {
	if is.Version != 1 {
		return fmt.Errorf("unsupported version %d (want 1)", is.Version)
	}
	if len(is.Types) < 2 {
		return errors.New("needs at least two issue types")
	}
	is.index = map[string]int{}
	for i, t := range is.Types {
		if t.ID == "" || t.Name == "" || t.Department == "" {
			return fmt.Errorf("issue %d: id, name and department are required", i+1)
		}
		if _, dup := is.index[t.ID]; dup {
			return fmt.Errorf("issue %q listed twice", t.ID)
		}
		switch t.Scope {
		case ScopeBuilding, ScopeSite, ScopeRoad, ScopeNone:
		case "":
			is.Types[i].Scope = ScopeSite
		default:
			return fmt.Errorf("issue %q: unknown scope %q", t.ID, t.Scope)
		}
		is.index[t.ID] = i
	}
	for _, t := range is.Types {
		for _, r := range t.Related {
			if _, ok := is.index[r]; !ok {
				return fmt.Errorf("issue %q: related issue %q is not listed", t.ID, r)
			}
		}
	}
	return nil
}

// Get returns the issue type with that id.
func (is *Issues) Get(id string) (Issue, bool) {
	i, ok := is.index[id]
	if !ok {
		return Issue{}, false
	}
	return is.Types[i], true
}

// ByName finds an issue type by its id or its Chinese or English name.
func (is *Issues) ByName(s string) (Issue, bool) {
	if t, ok := is.Get(s); ok {
		return t, true
	}
	for _, t := range is.Types {
		if t.Name == s || strings.EqualFold(t.NameEN, s) {
			return t, true
		}
	}
	return Issue{}, false
}

// related reports whether two issue types are the same or listed as related (either way).
func (is *Issues) related(a, b string) bool {
	if a == b {
		return true
	}
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		if t, ok := is.Get(pair[0]); ok {
			for _, r := range t.Related {
				if r == pair[1] {
					return true
				}
			}
		}
	}
	return false
}

// IssueSuggestion is one ranked issue type with its usual department, probability and the
// phrases that drove it.
type IssueSuggestion struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	NameEN     string   `json:"name_en,omitempty"`
	Department string   `json:"department"`
	Score      float64  `json:"score"`
	Evidence   []string `json:"evidence,omitempty"`
}

// IssueClassifier ranks issue types for a text: a naive-Bayes model trained, when it is
// built, on the config's examples, descriptions and keywords, plus keyword boosts and a
// prior from the department classifier. It is safe for concurrent use.
type IssueClassifier struct {
	issues *Issues
	inner  *Classifier
	depts  *Classifier
}

// deptPrior weighs the department classifier's log-probability of an issue's usual
// department: the department model is trained on far more text than the issue examples,
// so it settles paraphrases that name no issue keyword ("the stop is there, no bus comes").
// A department already decided for the call (by the agent) weighs more.
const (
	deptPrior    = 1.0
	decidedPrior = 1.5
)

// NewIssueClassifier trains the issue model from the config; depts, when not nil, lends
// its department probabilities as a prior.
func NewIssueClassifier(is *Issues, depts *Classifier) (*IssueClassifier, error) {
	tax := &Taxonomy{Version: 1, KeywordBoost: is.KeywordBoost, KeywordCap: is.KeywordCap, Rules: cloneRules(is.Rules)}
	var exs []Example
	for _, t := range is.Types {
		tax.Departments = append(tax.Departments, Department{ID: t.ID, Name: t.Name, NameEN: t.NameEN, Keywords: append([]string(nil), t.Keywords...)})
		for _, s := range append(append([]string{t.Description, t.Name}, t.Examples...), t.Keywords...) {
			if strings.TrimSpace(s) != "" {
				exs = append(exs, Example{Lang: DetectLang(s), Text: s, Label: t.ID})
			}
		}
	}
	if err := tax.validate(); err != nil {
		return nil, fmt.Errorf("dispatch: issues: %w", err)
	}
	m, err := Train(tax, exs, TrainOptions{Algo: AlgoNaiveBayes})
	if err != nil {
		return nil, fmt.Errorf("dispatch: issues: %w", err)
	}
	// Naive Bayes's class prior would count how many examples and keywords the config
	// lists for a type, which says nothing about how often callers raise it.
	clear(m.Bias)
	inner, err := New(tax, m)
	if err != nil {
		return nil, err
	}
	return &IssueClassifier{issues: is, inner: inner, depts: depts}, nil
}

// cloneRules copies rules deeply: validating a taxonomy normalises its rules in place, and
// the issue config stays as parsed.
func cloneRules(rs []Rule) []Rule {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].All = make([][]string, len(r.All))
		for j, g := range r.All {
			out[i].All[j] = append([]string(nil), g...)
		}
		out[i].None = append([]string(nil), r.None...)
	}
	return out
}

// Issues returns the classifier's issue types.
func (ic *IssueClassifier) Issues() *Issues { return ic.issues }

// Rank returns the top issue types for a text, best first. dept, when not empty, is a
// department already decided for the call and replaces the department classifier's prior.
func (ic *IssueClassifier) Rank(text, dept string, top int) []IssueSuggestion {
	s := ic.inner.score(text, ic.inner.model.Temperature)
	if s == nil {
		return nil
	}
	prior := ic.prior(text, dept)
	w := deptPrior
	if dept != "" {
		w = decidedPrior
	}
	z := make([]float64, len(s.logits))
	for i, v := range s.logits {
		z[i] = v
		if prior != nil {
			t := ic.issues.Types[i]
			p := prior[t.Department]
			for _, d := range t.Also {
				p = max(p, prior[d]) // a lift call heard as 住建 is still a lift call
			}
			z[i] += w * math.Log(p+1e-3)
		}
	}
	probs := softmax(z)
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	if top <= 0 || top > len(order) {
		top = len(order)
	}
	out := make([]IssueSuggestion, top)
	for k, i := range order[:top] {
		t := ic.issues.Types[i]
		out[k] = IssueSuggestion{ID: t.ID, Name: t.Name, NameEN: t.NameEN, Department: t.Department, Score: probs[i], Evidence: ic.inner.evidence(s, i)}
	}
	return out
}

// prior is each department's probability for the text: the decided department's near 1, or
// the department classifier's ranking; nil when there is neither.
func (ic *IssueClassifier) prior(text, dept string) map[string]float64 {
	if dept != "" {
		return map[string]float64{dept: 0.9}
	}
	if ic.depts == nil {
		return nil
	}
	p := map[string]float64{}
	for _, s := range ic.depts.Rank(text, 0) {
		p[s.ID] = s.Score
	}
	return p
}

// defaultIssues is the classifier's issue model on the embedded issue types, built on
// first use so that callers who only rank departments do not pay for training it.
type defaultIssues struct {
	once sync.Once
	ic   *IssueClassifier
	err  error
}

// Issues ranks the embedded issue types for a text, with this classifier's departments as
// the prior (see IssueClassifier.Rank).
func (c *Classifier) Issues(text string, top int) ([]IssueSuggestion, error) {
	ic, err := c.IssueClassifier()
	if err != nil {
		return nil, err
	}
	return ic.Rank(text, "", top), nil
}

// IssueClassifier returns the issue classifier on the embedded issue types that pairs with
// this department classifier, training it on first use.
func (c *Classifier) IssueClassifier() (*IssueClassifier, error) {
	c.issues.once.Do(func() {
		is, err := DefaultIssues()
		if err != nil {
			c.issues.err = err
			return
		}
		c.issues.ic, c.issues.err = NewIssueClassifier(is, c)
	})
	return c.issues.ic, c.issues.err
}
