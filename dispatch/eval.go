package dispatch

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// LangScore is accuracy over one language's examples: top-1 counts the label or the accepted
// alt, top-3 the label among the first three.
type LangScore struct {
	N    int
	Top1 float64
	Top3 float64
}

// Confusion is a labelled department mistaken for another at top-1, and how often.
type Confusion struct {
	Label, Got string
	Count      int
}

// Report is the outcome of Evaluate.
type Report struct {
	Langs    map[string]LangScore
	Confused []Confusion // worst first
	PerText  time.Duration
	Misses   []Example // examples whose top-1 was wrong, Suggested set to the guess
}

// Evaluate ranks every example and scores the rankings. now is the clock that times them.
func Evaluate(c *Classifier, examples []Example, now func() time.Time) Report {
	return evaluate(func(text string) []string {
		var ids []string
		for _, s := range c.Rank(text, 3) {
			ids = append(ids, s.ID)
		}
		return ids
	}, examples, now)
}

// EvaluateIssues scores the issue classifier the same way on examples labelled with issue
// ids: top-1 counts the label or the accepted alt, top-3 the label among the first three.
func EvaluateIssues(ic *IssueClassifier, examples []Example, now func() time.Time) Report {
	return evaluate(func(text string) []string {
		var ids []string
		for _, s := range ic.Rank(text, "", 3) {
			ids = append(ids, s.ID)
		}
		return ids
	}, examples, now)
}

// evaluate scores rank, the ids it returns best first, on the examples.
func evaluate(rank func(string) []string, examples []Example, now func() time.Time) Report {
	type acc struct{ n, top1, top3 int }
	per := map[string]*acc{}
	conf := map[[2]string]int{}
	var r Report
	start := now()
	for _, ex := range examples {
		got := rank(ex.Text)
		a := per[ex.Lang]
		if a == nil {
			a = &acc{}
			per[ex.Lang] = a
		}
		a.n++
		if len(got) > 0 && (got[0] == ex.Label || got[0] == ex.Alt) {
			a.top1++
		} else {
			guess := ""
			if len(got) > 0 {
				guess = got[0]
			}
			conf[[2]string{ex.Label, guess}]++
			miss := ex
			miss.Suggested = guess
			r.Misses = append(r.Misses, miss)
		}
		for _, id := range got {
			if id == ex.Label {
				a.top3++
			}
		}
	}
	if len(examples) > 0 {
		r.PerText = now().Sub(start) / time.Duration(len(examples))
	}
	r.Langs = map[string]LangScore{}
	for l, a := range per {
		r.Langs[l] = LangScore{N: a.n, Top1: float64(a.top1) / float64(a.n), Top3: float64(a.top3) / float64(a.n)}
	}
	for k, n := range conf {
		r.Confused = append(r.Confused, Confusion{Label: k[0], Got: k[1], Count: n})
	}
	sort.Slice(r.Confused, func(i, j int) bool {
		a, b := r.Confused[i], r.Confused[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Label+a.Got < b.Label+b.Got
	})
	return r
}

// Print writes the report as a Markdown table plus the worst confusions.
func (r Report) Print(w io.Writer, worst int) {
	fmt.Fprintln(w, "| lang | n | top-1 | top-3 |")
	fmt.Fprintln(w, "|---|---|---|---|")
	langs := make([]string, 0, len(r.Langs))
	for l := range r.Langs {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		s := r.Langs[l]
		fmt.Fprintf(w, "| %s | %d | %.3f | %.3f |\n", l, s.N, s.Top1, s.Top3)
	}
	fmt.Fprintf(w, "\ntime per classification: %v\n", r.PerText)
	if len(r.Confused) > 0 {
		fmt.Fprintln(w, "\nworst confusions (label → top-1):")
		for i, c := range r.Confused {
			if i >= worst {
				break
			}
			fmt.Fprintf(w, "  %d × %s → %s\n", c.Count, c.Label, c.Got)
		}
	}
}
