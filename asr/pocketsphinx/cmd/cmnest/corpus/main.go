// Command corpus prints the expanded domain corpus (stdin, "{a|b}" format), one sentence a line.
package main

import (
	"fmt"
	"os"

	"lianxin/asr/internal/ngram"
)

func main() {
	sents, err := ngram.Expand(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
	for _, s := range sents {
		fmt.Println(s)
	}
}
