// Command lmcases writes the English case texts of the dispatch training set as the
// embedded recogniser's second domain corpus (asr/pocketsphinx/lm/cases.txt): real-shaped
// caller sentences, where the hand-written templates of lm/hotline.txt are agent and
// caller stock phrases. The held-out cases stay out: they are the recogniser's dev set.
//
//	go run ./asr/pocketsphinx/cmd/lmcases testdata/dispatch/train/*.jsonl >asr/pocketsphinx/lm/cases.txt
package main

import (
	"bufio"
	"fmt"
	"os"

	"lianxin/asr/internal/ngram"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lmcases CASES.jsonl…")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "# English case texts of testdata/dispatch/train; written by asr/pocketsphinx/cmd/lmcases, do not edit.")
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lmcases:", err)
			os.Exit(1)
		}
		lines, err := ngram.ReadCases(f, "en")
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "lmcases: %s: %v\n", path, err)
			os.Exit(1)
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "lmcases:", err)
		os.Exit(1)
	}
}
