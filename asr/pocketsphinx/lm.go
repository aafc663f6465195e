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

// writeDomainLM expands the corpus, builds the trigram model and writes it as ARPA into dir.
func writeDomainLM(dir, corpus string) (string, error) {
	if corpus == "" {
		corpus = hotlineCorpus
	}
	sents, err := ngram.Expand(strings.NewReader(corpus))
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: domain corpus: %w", err)
	}
	path := filepath.Join(dir, "hotline.arpa")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	if err := ngram.Count(sents).WriteARPA(f); err != nil {
		f.Close()
		return "", fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("pocketsphinx: domain LM: %w", err)
	}
	return path, nil
}
