package ngram

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

var notWord = regexp.MustCompile(`[^a-z' ]+`)

// Words normalises free text the way the recognisers' dictionaries spell it: lower case,
// letters and apostrophes kept, everything else (digits included) a word break.
func Words(s string) string {
	return strings.Join(strings.Fields(notWord.ReplaceAllString(strings.ToLower(s), " ")), " ")
}

// ReadCases reads case records as JSON lines ({"lang": …, "text": …}, the dispatch
// training format) and returns the normalised texts of those in lang.
func ReadCases(r io.Reader, lang string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c struct{ Lang, Text string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("ngram: case line %d: %w", n, err)
		}
		if c.Lang == lang {
			if w := Words(c.Text); w != "" {
				out = append(out, w)
			}
		}
	}
	return out, sc.Err()
}
