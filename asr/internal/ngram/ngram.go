// Package ngram builds a small back-off language model (interpolated Witten-Bell, up to
// trigrams) from sentences and writes it in ARPA format, the format pocketsphinx reads. It
// also expands the "{a|b}" alternation shorthand the domain corpus is written in.
package ngram

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

const (
	bos = "<s>"
	eos = "</s>"
)

// Model is a trigram model's counts; build one with Count and write it with WriteARPA.
type Model struct {
	uni   map[string]int
	bi    map[[2]string]int
	tri   map[[3]string]int
	total int // tokens counted as unigrams (words and </s>)
}

// Count builds a model from sentences (whitespace-separated words; case is kept).
func Count(sentences []string) *Model {
	m := &Model{uni: map[string]int{}, bi: map[[2]string]int{}, tri: map[[3]string]int{}}
	for _, s := range sentences {
		w := append(append([]string{bos}, strings.Fields(s)...), eos)
		if len(w) == 2 {
			continue
		}
		for i := 1; i < len(w); i++ {
			m.uni[w[i]]++
			m.total++
			m.bi[[2]string{w[i-1], w[i]}]++
			if i >= 2 {
				m.tri[[3]string{w[i-2], w[i-1], w[i]}]++
			}
		}
	}
	return m
}

// Vocabulary is the model's words, sorted, without the sentence markers.
func (m *Model) Vocabulary() []string {
	out := make([]string, 0, len(m.uni))
	for w := range m.uni {
		if w != eos {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// hist is what Witten-Bell needs of a history: how often it was followed by anything (c)
// and by how many distinct words (t).
type hist struct{ c, t int }

// WriteARPA writes the model. Witten-Bell interpolation in back-off form: a seen n-gram
// gets p = (c(h,w) + T(h)·p_lower(w)) / (c(h) + T(h)), and the back-off weight of h is
// exactly T(h)/(c(h)+T(h)), because the unseen words keep their lower-order shares.
func (m *Model) WriteARPA(out io.Writer) error {
	if len(m.uni) == 0 {
		return fmt.Errorf("ngram: empty model")
	}
	h1 := map[string]hist{}
	for k, c := range m.bi {
		h := h1[k[0]]
		h.c += c
		h.t++
		h1[k[0]] = h
	}
	h2 := map[[2]string]hist{}
	for k, c := range m.tri {
		key := [2]string{k[0], k[1]}
		h := h2[key]
		h.c += c
		h.t++
		h2[key] = h
	}
	// unigrams: Witten-Bell against a uniform distribution over the V seen types, which is
	// (c(w) + V·1/V) / (N + V)
	v := float64(len(m.uni))
	p1 := map[string]float64{}
	for w, c := range m.uni {
		p1[w] = (float64(c) + 1) / (float64(m.total) + v)
	}
	p2 := map[[2]string]float64{}
	for k, c := range m.bi {
		h := h1[k[0]]
		p2[k] = (float64(c) + float64(h.t)*p1[k[1]]) / float64(h.c+h.t)
	}
	bw := bufio.NewWriter(out)
	fmt.Fprintf(bw, "\\data\\\nngram 1=%d\nngram 2=%d\nngram 3=%d\n\n\\1-grams:\n", len(m.uni)+1, len(m.bi), len(m.tri))
	fmt.Fprintf(bw, "-99.0000 %s %.4f\n", bos, bow(h1[bos]))
	for _, w := range sortedKeys(m.uni, func(a, b string) bool { return a < b }) {
		fmt.Fprintf(bw, "%.4f %s %.4f\n", math.Log10(p1[w]), w, bow(h1[w]))
	}
	fmt.Fprint(bw, "\n\\2-grams:\n")
	for _, k := range sortedKeys(m.bi, less2) {
		fmt.Fprintf(bw, "%.4f %s %s %.4f\n", math.Log10(p2[k]), k[0], k[1], bow(h2[k]))
	}
	fmt.Fprint(bw, "\n\\3-grams:\n")
	for _, k := range sortedKeys(m.tri, less3) {
		h := h2[[2]string{k[0], k[1]}]
		p := (float64(m.tri[k]) + float64(h.t)*p2[[2]string{k[1], k[2]}]) / float64(h.c+h.t)
		fmt.Fprintf(bw, "%.4f %s %s %s\n", math.Log10(p), k[0], k[1], k[2])
	}
	fmt.Fprint(bw, "\n\\end\\\n")
	return bw.Flush()
}

// bow is the log10 back-off weight of a history; 0 for one never seen as a history.
func bow(h hist) float64 {
	if h.c == 0 {
		return 0
	}
	return math.Log10(float64(h.t) / float64(h.c+h.t))
}

func less2(a, b [2]string) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}

func less3(a, b [3]string) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return less2([2]string{a[1], a[2]}, [2]string{b[1], b[2]})
}

func sortedKeys[K comparable, V any](m map[K]V, less func(a, b K) bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}
