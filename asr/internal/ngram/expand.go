package ngram

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxExpansions bounds what one corpus line may expand to, so that a typo cannot make the
// corpus explode.
const maxExpansions = 5000

// Expand reads a corpus: one sentence per line, "#" comments and blank lines skipped, and
// each "{a|b|c}" group replaced by each of its alternatives in turn (all combinations).
// Words are lower-cased and whitespace normalised.
func Expand(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		got, err := expandLine(strings.ToLower(line))
		if err != nil {
			return nil, fmt.Errorf("ngram: corpus line %d: %w", n, err)
		}
		out = append(out, got...)
	}
	return out, sc.Err()
}

func expandLine(line string) ([]string, error) {
	acc := []string{""}
	for line != "" {
		open := strings.IndexByte(line, '{')
		if open < 0 {
			acc = appendAll(acc, []string{line})
			break
		}
		end := strings.IndexByte(line[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		end += open
		if strings.ContainsAny(line[open+1:end], "{") || strings.ContainsAny(line[:open], "}|") {
			return nil, fmt.Errorf("nested or stray braces")
		}
		acc = appendAll(acc, []string{line[:open]})
		acc = appendAll(acc, strings.Split(line[open+1:end], "|"))
		if len(acc) > maxExpansions {
			return nil, fmt.Errorf("expands to more than %d sentences", maxExpansions)
		}
		line = line[end+1:]
	}
	if strings.ContainsAny(acc[0], "{}|") {
		return nil, fmt.Errorf("stray brace or bar")
	}
	for i, s := range acc {
		acc[i] = strings.Join(strings.Fields(s), " ")
	}
	return acc, nil
}

func appendAll(prefixes, alts []string) []string {
	out := make([]string, 0, len(prefixes)*len(alts))
	for _, p := range prefixes {
		for _, a := range alts {
			out = append(out, p+a)
		}
	}
	return out
}
