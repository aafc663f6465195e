package cli

import (
	"context"
	"fmt"
	"io"
)

// run runs the command args[0] names, as gateway's main does.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	commands := map[string]Command{"transcribe": Transcribe, "classify": Classify, "redact": Redact,
		"dispatch": Dispatch, "asr": ASR, "hotspots": Hotspots}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "no command %q\n", args[0])
		return 2
	}
	return cmd(ctx, args[1:], stdin, stdout, stderr)
}
