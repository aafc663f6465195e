package dispatch

import (
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"
)

//go:embed builtin.model
var builtinModel []byte

// Suggestion is one ranked department: its id, names, probability and the phrases of the
// text that drove it.
type Suggestion struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	NameEN   string   `json:"name_en,omitempty"`
	Score    float64  `json:"score"`
	Evidence []string `json:"evidence,omitempty"`
	// Tentative marks a live suggestion below the confidence the agent can rely on.
	Tentative bool `json:"tentative,omitempty"`
}

// Classifier ranks the departments of a taxonomy for a text. It is safe for concurrent use.
type Classifier struct {
	tax     *Taxonomy
	model   *Model
	toModel []int // taxonomy index → model label index, -1 when the model lacks it
	issues  *defaultIssues
}

// New pairs a taxonomy with a model trained on (a subset of) its ids.
func New(tax *Taxonomy, m *Model) (*Classifier, error) {
	c := &Classifier{tax: tax, model: m, toModel: make([]int, len(tax.Departments)), issues: &defaultIssues{}}
	for i := range c.toModel {
		c.toModel[i] = -1
	}
	for j, l := range m.Labels {
		i := tax.Index(l)
		if i < 0 {
			return nil, fmt.Errorf("dispatch: model label %q is not in the taxonomy", l)
		}
		c.toModel[i] = j
	}
	return c, nil
}

// NewDefault returns the classifier built into the binary: embedded taxonomy and model.
func NewDefault() (*Classifier, error) {
	return Load("", "")
}

// Load builds a classifier from a taxonomy config and a model file; an empty path means the
// embedded one.
func Load(taxonomyPath, modelPath string) (*Classifier, error) {
	tax, err := DefaultTaxonomy()
	if taxonomyPath != "" {
		tax, err = LoadTaxonomy(taxonomyPath)
	}
	if err != nil {
		return nil, err
	}
	var m *Model
	if modelPath != "" {
		m, err = LoadModel(modelPath)
	} else {
		m, err = ParseModel(builtinModel)
	}
	if err != nil {
		return nil, err
	}
	return New(tax, m)
}

// Taxonomy returns the classifier's taxonomy.
func (c *Classifier) Taxonomy() *Taxonomy { return c.tax }

// Model returns the classifier's model.
func (c *Classifier) Model() *Model { return c.model }

// String names the classifier for logs.
func (c *Classifier) String() string {
	return fmt.Sprintf("dispatch(%s, %d departments)", c.model.Algo, len(c.tax.Departments))
}

// scoring is one text's analysis: its features and every department's logit and boost hits.
type scoring struct {
	runes  []rune
	feats  []feature
	known  []int
	logits []float64
	hits   [][]string
}

// primaryCues are what callers say when they come to the point after a preamble or a
// side topic; what follows the last cue outweighs what came before.
var primaryCues = []string{"主要是", "主要想", "最主要", "重点是", "我要反映的是", "我要投诉的是", "真正的问题是", "其实我", "其实是", "the main thing", "mainly", "actually i", "what i really"}

// primaryWeight is the tail's share of the logits when a cue is heard.
const primaryWeight = 0.65

func (c *Classifier) score(text string, temperature float64) *scoring {
	norm := normalize(text)
	s := c.scoreNorm(norm, temperature)
	if s == nil {
		return nil
	}
	at := -1
	for _, cue := range primaryCues {
		if i := strings.LastIndex(norm, cue); i > at {
			at = i
		}
	}
	if at <= 0 {
		return s
	}
	tail := c.scoreNorm(norm[at:], temperature)
	if tail == nil || len(tail.runes) < 8 {
		return s
	}
	for i := range tail.logits {
		tail.logits[i] = primaryWeight*tail.logits[i] + (1-primaryWeight)*s.logits[i]
	}
	return tail
}

func (c *Classifier) scoreNorm(norm string, temperature float64) *scoring {
	if norm == "" {
		return nil
	}
	s := &scoring{runes: []rune(norm), feats: extract(norm), hits: make([][]string, len(c.tax.Departments))}
	raw := make([]float64, len(c.model.Labels))
	s.known = c.model.logits(s.feats, DetectLang(norm), raw)
	s.logits = make([]float64, len(c.tax.Departments))
	low := math.Inf(1)
	for _, z := range raw {
		low = math.Min(low, z/temperature)
	}
	for i, j := range c.toModel {
		s.logits[i] = low - 5
		if j >= 0 {
			s.logits[i] = raw[j] / temperature
		}
	}
	c.boost(norm, s)
	return s
}

// matcher knows which taxonomy terms one text contains. It looks up candidates by the
// text's own two-character n-grams rather than scanning the text once per term.
type matcher struct {
	present map[string]bool
}

func newMatcher(norm string, feats []feature, ti *termIndex) *matcher {
	m := &matcher{present: map[string]bool{}}
	for _, f := range feats {
		for _, term := range ti.heads[f.key] {
			if !m.present[term] && strings.Contains(norm, term) {
				m.present[term] = true
			}
		}
	}
	latin := false
	for i := 0; i < len(norm) && !latin; i++ {
		latin = norm[i] >= 'a' && norm[i] <= 'z'
	}
	if latin {
		for _, term := range ti.latin {
			if termIn(norm, term) >= 0 {
				m.present[term] = true
			}
		}
	}
	for _, term := range ti.other {
		if strings.Contains(norm, term) {
			m.present[term] = true
		}
	}
	return m
}

func (m *matcher) has(term string) bool { return m.present[term] }

// boost adds the taxonomy's keyword and rule boosts to the logits.
func (c *Classifier) boost(norm string, s *scoring) {
	m := newMatcher(norm, s.feats, &c.tax.terms)
	for i, d := range c.tax.Departments {
		n := 0
		for _, k := range d.Keywords {
			if n >= c.tax.KeywordCap {
				break
			}
			if m.has(k) {
				n++
				s.hits[i] = append(s.hits[i], k)
			}
		}
		s.logits[i] += float64(n) * c.tax.KeywordBoost
	}
	for _, r := range c.tax.Rules {
		heard, ok := ruleHeard(m, r)
		if !ok {
			continue
		}
		for id, w := range r.Boost {
			i := c.tax.index[id]
			s.logits[i] += w
			if w > 0.5 {
				s.hits[i] = append(s.hits[i], heard...)
			}
		}
	}
}

// ruleHeard reports whether a rule fires on the text, and the terms that made it fire.
func ruleHeard(m *matcher, r Rule) ([]string, bool) {
	for _, t := range r.None {
		if m.has(t) {
			return nil, false
		}
	}
	heard := make([]string, 0, len(r.All))
	for _, group := range r.All {
		found := ""
		for _, t := range group {
			if m.has(t) {
				found = t
				break
			}
		}
		if found == "" {
			return nil, false
		}
		heard = append(heard, found)
	}
	return heard, true
}

// Rank returns the top departments for a text, best first, with probabilities (over all
// departments, so the returned scores sum to at most 1) and evidence. An empty text, or
// one with nothing but punctuation and symbols, ranks nothing.
func (c *Classifier) Rank(text string, top int) []Suggestion {
	s := c.score(text, c.model.Temperature)
	if s == nil {
		return nil
	}
	z := make([]float64, len(s.logits))
	for i, v := range s.logits {
		z[i] = v / c.model.FinalTemperature
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
	out := make([]Suggestion, top)
	for k, i := range order[:top] {
		d := c.tax.Departments[i]
		out[k] = Suggestion{ID: d.ID, Name: d.Name, NameEN: d.NameEN, Score: probs[i], Evidence: c.evidence(s, i)}
	}
	return out
}

// evidence names the phrases that pushed department i up: its keyword and rule hits, then
// the spans of the n-grams that weighed most for it, overlapping spans merged.
func (c *Classifier) evidence(s *scoring, i int) []string {
	const maxPhrases = 4
	var ev []string
	add := func(p string) {
		for _, e := range ev {
			// Keep what came first: a keyword or rule term reads better than an n-gram
			// span around it.
			if strings.Contains(e, p) || strings.Contains(p, e) {
				return
			}
		}
		ev = append(ev, p)
	}
	for _, h := range s.hits[i] {
		add(h)
	}
	j := c.toModel[i]
	if j < 0 {
		return ev
	}
	type span struct {
		start, end int
		w          float64
	}
	var spans []span
	for _, fi := range s.known {
		f := s.feats[fi]
		if f.end-f.start < 2 && isHan(s.runes[f.start]) {
			continue // a lone character is rarely a phrase an agent can read as a reason
		}
		if w := c.model.contribution(f.key, j); w > 0 {
			spans = append(spans, span{f.start, f.end, w})
		}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].w > spans[b].w })
	if len(spans) > 6 {
		spans = spans[:6]
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	var merged []span
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.start < merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, sp.end)
			merged[n-1].w += sp.w
			continue
		}
		merged = append(merged, sp)
	}
	sort.SliceStable(merged, func(a, b int) bool { return merged[a].w > merged[b].w })
	for _, sp := range merged {
		if len(ev) >= maxPhrases || sp.w < 0.35*merged[0].w {
			break
		}
		if p := strings.TrimSpace(string(s.runes[sp.start:sp.end])); p != "" {
			add(p)
		}
	}
	if len(ev) > maxPhrases {
		ev = ev[:maxPhrases]
	}
	return ev
}

func softmax(z []float64) []float64 {
	hi := math.Inf(-1)
	for _, v := range z {
		hi = math.Max(hi, v)
	}
	out := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		out[i] = math.Exp(v - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
