package workorder

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// corpus reads the labelled dispatch examples: callers' words as other people wrote them
// (held-out, fresh and outside-style sets), not shaped after this package's extractors.
func corpus(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, glob := range []string{"heldout/*.jsonl", "fresh/*.jsonl", "dev/*.jsonl"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", "dispatch", glob))
		require.NoError(t, err)
		for _, f := range files {
			fh, err := os.Open(f)
			require.NoError(t, err)
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				var ex struct{ Lang, Text string }
				if json.Unmarshal(sc.Bytes(), &ex) == nil && ex.Lang == "zh" && ex.Text != "" {
					out = append(out, ex.Text)
				}
			}
			fh.Close()
		}
	}
	require.Greater(t, len(out), 100, "the dispatch examples are where they were")
	return out
}

// On every example the draft holds only what the caller said: each clause of the summary,
// the address, the event time and the callback number are found in the text.
func TestDraftsInventNothing(t *testing.T) {
	b := builder(t, nil)
	filled := map[string]int{}
	for _, text := range corpus(t) {
		d := b.Live(Input{Text: []string{text}})
		body, ok := strings.CutPrefix(strings.TrimPrefix(d.Summary, "【紧急】"), "市民来电反映：")
		require.True(t, ok, d.Summary)
		body = strings.TrimSuffix(body, "…")
		for _, part := range strings.Split(body, "。") {
			part = strings.TrimPrefix(part, "诉求：")
			for _, c := range strings.Split(part, "，") {
				if c != "" && !strings.Contains(text, c) && c != d.Address && c != d.Place && !strings.HasPrefix(d.Address+d.Place, c) {
					t.Errorf("summary clause %q not said in %q", c, text)
				}
			}
		}
		for name, v := range map[string]string{"address": d.Address, "event_time": d.EventTime} {
			if v != "" {
				filled[name]++
				require.Contains(t, text, v, name)
			}
		}
		if d.CallbackNumber != "" {
			filled["callback"]++
			require.Contains(t, Digits(text), d.CallbackNumber)
		}
		if d.Urgent {
			filled["urgent"]++
		}
		if d.Department != "" {
			filled["department"]++
		}
	}
	t.Logf("fields filled over the corpus: %v", filled)
	require.Positive(t, filled["address"])
	require.Positive(t, filled["event_time"])
}
