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

// Commands are the commands by the name gateway is given them under.
func Commands() map[string]Command {
	return map[string]Command{"transcribe": Transcribe, "classify": Classify, "redact": Redact,
		"dispatch": Dispatch, "asr": ASR, "hotspots": Hotspots}
}

// Usage lists every command of gateway, serve included, for its help.
const Usage = `usage: gateway <command> [flags]

commands:
  serve       run the gateway (SIP, media, ASR, dispatch, agent screens)
  transcribe  transcribe WAV files: gateway transcribe [--asr NAME] FILE.wav…
  classify    department suggestions: gateway classify [--top N] [TEXT…]
  dispatch    dispatch model tools: gateway dispatch train|retrain …
  asr         engine checks: gateway asr probe --config FILE [--asr ENGINE]
  hotspots    replay calls through hotspot detection: gateway hotspots [--window 2h] [--threshold 3] < calls.jsonl
  redact      mask personal numbers, one text per line: gateway redact < texts.txt
`
