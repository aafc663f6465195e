// Command gateway is the Lianxin telephony and live-transcription gateway.
//
//	gateway serve [--config FILE] [flags]   run the gateway
//	gateway transcribe [--asr NAME] FILE…   transcribe WAV files through the live path
//	gateway classify [--top N] [TEXT…]      suggest departments for texts
//	gateway dispatch train|retrain …        build the dispatch model
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

const usage = `usage: gateway <command> [flags]

commands:
  serve       run the gateway (SIP, media, ASR, dispatch, agent screens)
  transcribe  transcribe WAV files: gateway transcribe [--asr NAME] FILE.wav…
  classify    department suggestions: gateway classify [--top N] [TEXT…]
  dispatch    dispatch model tools: gateway dispatch train|retrain …
  asr         engine checks: gateway asr probe --config FILE [--asr ENGINE]
  hotspots    replay calls through hotspot detection: gateway hotspots [--window 2h] [--threshold 3] < calls.jsonl
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	offline := map[string]cli.Command{"transcribe": cli.Transcribe, "classify": cli.Classify, "redact": cli.Redact,
		"dispatch": cli.Dispatch, "asr": cli.ASR, "hotspots": cli.Hotspots}
	if cmd, ok := offline[args[0]]; ok {
		return cmd(ctx, args[1:], stdin, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
