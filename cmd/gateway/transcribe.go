package main

import (
	"context"
	"fmt"
	"io"
)

func runTranscribe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gateway transcribe: not built yet")
	return 1
}
