package main

import (
	"context"
	"fmt"
	"io"
)

func runClassify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gateway classify: not built yet")
	return 1
}

func runDispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gateway dispatch: not built yet")
	return 1
}
