package dispatch

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendFeedback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fb.jsonl")
	sug := []Suggestion{{ID: "water-supply"}, {ID: "power-supply"}}
	require.NoError(t, AppendFeedback(path, Feedback("c1", "停水了  三天", sug, "water-supply")))
	require.NoError(t, AppendFeedback(path, Feedback("c2", "the lights are out", sug, "power-supply")))
	exs, err := ReadExamples(path)
	require.NoError(t, err)
	require.Equal(t, []Example{
		{Lang: "zh", Text: "停水了 三天", Label: "water-supply", CallID: "c1", Suggested: "water-supply", Decision: "accept"},
		{Lang: "en", Text: "the lights are out", Label: "power-supply", CallID: "c2", Suggested: "water-supply", Decision: "override"},
	}, exs)

	require.Error(t, AppendFeedback(path, Example{Text: " ", Label: "water-supply"}))
	require.Error(t, AppendFeedback(path, Example{Text: "停水", Label: ""}))
	require.Error(t, AppendFeedback(path, Example{Text: "停\xff水", Label: "water-supply"}))
	require.Error(t, AppendFeedback(filepath.Join(path, "not-a-dir", "x"), Example{Text: "a", Label: "b"}))
}

func TestAppendFeedbackConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fb.jsonl")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			require.NoError(t, AppendFeedback(path, Example{Text: "停水了", Label: "water-supply", CallID: string(rune('a' + i))}))
		})
	}
	wg.Wait()
	exs, err := ReadExamples(path)
	require.NoError(t, err)
	require.Len(t, exs, 20)
}

func TestReadExamplesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"text\":\"a\",\"label\":\"b\"}\n\nnot json\n"), 0o644))
	_, err := ReadExamples(bad)
	require.ErrorContains(t, err, "bad.jsonl:3")
	require.NoError(t, os.WriteFile(bad, []byte("{\"text\":\"a\"}\n"), 0o644))
	_, err = ReadExamples(bad)
	require.ErrorContains(t, err, "no label")
	_, err = LoadExamples(t.TempDir())
	require.ErrorContains(t, err, "no *.jsonl")
}

func FuzzParseExample(f *testing.F) {
	f.Add([]byte(`{"lang":"zh","text":"停水了","label":"water-supply","alt":null}`))
	f.Add([]byte(`{"text":"\xff","label":"x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ex, err := parseExample(line)
		if err == nil && (ex.Label == "" || ex.Lang == "" || strings.TrimSpace(ex.Text) == "") {
			t.Fatalf("accepted %q as %+v", line, ex)
		}
	})
}
