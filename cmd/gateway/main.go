// Command gateway is the Lianxin telephony and live-transcription gateway: `gateway serve`
// runs it, and the other commands (cli.Usage) work offline or probe engines.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"lianxin/cli"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, cli.Usage)
		return 2
	}
	if cmd, ok := cli.Commands()[args[0]]; ok {
		return cmd(ctx, args[1:], stdin, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, cli.Usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", args[0], cli.Usage)
		return 2
	}
}
