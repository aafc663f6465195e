package pocketsphinx

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/asr/internal/ngram"
)

// The domain corpus must not contain the test sentences: testdata/asr measures how the
// model generalises to hotline speech it was not built from.
func TestCorpusExcludesTestSentences(t *testing.T) {
	sents, err := ngram.Expand(strings.NewReader(hotlineCorpus))
	require.NoError(t, err)
	require.Greater(t, len(sents), 1000)
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
	path, vocab, err := writeDomainLM(t.TempDir(), "")
	require.NoError(t, err)
	require.Contains(t, vocab, "pothole")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Positive(t, st.Size())
	_, _, err = writeDomainLM(t.TempDir(), "{unclosed")
	require.Error(t, err)
}
