package pocketsphinx

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr/internal/ngram"
)

// The domain corpus must not contain the test sentences: testdata/asr measures how the
// model generalises to hotline speech it was not built from.
func TestCorpusExcludesTestSentences(t *testing.T) {
	sents, err := domainSentences(1)
	require.NoError(t, err)
	require.Greater(t, len(sents), 5000)
	corpus := map[string]bool{}
	for _, s := range sents {
		corpus[s] = true
	}
	f, err := os.Open("../../testdata/asr/refs.tsv")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		_, text, _ := strings.Cut(sc.Text(), "\t")
		for _, part := range strings.Split(text, "|") {
			require.False(t, corpus[strings.TrimSpace(part)], "test sentence in the corpus: %q", part)
		}
		n++
	}
	require.Equal(t, 20, n)
}

func TestDomainLMBuilds(t *testing.T) {
	path, vocab, err := writeDomainLM(t.TempDir(), "", 1, nil)
	require.NoError(t, err)
	require.Contains(t, vocab, "pothole")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Positive(t, st.Size())
	_, _, err = writeDomainLM(t.TempDir(), "{unclosed", 1, nil)
	require.Error(t, err)
}

// lm/cases.txt is what cmd/lmcases makes of the dispatch training set, and only of it: the
// held-out cases are the recogniser's dev set (scripts/asr-devset.sh).
func TestCasesCorpusMatchesTrainingSet(t *testing.T) {
	want := englishCases(t, "../../testdata/dispatch/train/*.jsonl")
	got, err := ngram.Expand(strings.NewReader(casesCorpus))
	require.NoError(t, err)
	require.Equal(t, want, got, "regenerate: go run ./asr/pocketsphinx/cmd/lmcases testdata/dispatch/train/*.jsonl >asr/pocketsphinx/lm/cases.txt")
	inCorpus := map[string]bool{}
	for _, s := range got {
		inCorpus[s] = true
	}
	for _, l := range englishCases(t, "../../testdata/dispatch/heldout/*.jsonl") {
		require.False(t, inCorpus[l], "held-out case in the LM corpus: %q", l)
	}
}

// englishCases reads the normalised English case texts of the files glob matches.
func englishCases(t *testing.T, glob string) []string {
	t.Helper()
	paths, err := filepath.Glob(glob)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out []string
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		lines, err := ngram.ReadCases(f, "en")
		f.Close()
		require.NoError(t, err)
		out = append(out, lines...)
	}
	return out
}
