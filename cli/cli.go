// Package cli holds gateway's offline and integrator commands: classify, dispatch,
// transcribe, asr probe, hotspots and redact. Each is a Command that main hands the
// arguments after the command's name and the process's streams.
package cli

import (
	"context"
	"io"
)

// Command is one command: it reads its flags from args and its input from stdin, writes
// results to stdout and problems to stderr, and returns the process's exit code (0 done,
// 1 failed, 2 misused).
type Command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
