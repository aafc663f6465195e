package pocketsphinx

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"lianxin/asr/internal/ngram"
)

// hotlineCorpus is the hand-written hotline-style text the domain model is built from.
//
//go:embed lm/hotline.txt
var hotlineCorpus string

// writeDomainLM expands the corpus, builds the trigram model and writes it as ARPA into dir;
// it returns the path and the model's vocabulary.
func writeDomainLM(dir, corpus string) (string, []string, error) {
	if corpus == "" {
		corpus = hotlineCorpus
	}
	sents, err := ngram.Expand(strings.NewReader(corpus))
	if err != nil {
		return "", nil, fmt.Errorf("pocketsphinx: domain corpus: %w", err)
	}
	path := filepath.Join(dir, "hotline.arpa")
	f, err := os.Create(path)
	if err != nil {
		return "", nil, fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	m := ngram.Count(sents)
	if err := m.WriteARPA(f); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", nil, fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	return path, m.Vocabulary(), nil
}
