package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"lianxin/redact"
)

// maxRedactLine bounds one stdin line of `gateway redact`, as for classify: the rest of a
// longer line is skipped, the part read is redacted and the answer says it was truncated.
const maxRedactLine = maxClassifyLine

type redactOut struct {
	Text      string        `json:"text"`
	Spans     []redact.Span `json:"spans"`
	Truncated bool          `json:"truncated,omitempty"`
}

// Redact masks personal numbers in each stdin line (or each TEXT argument) and prints one
// JSON line per input line. Offsets are runes of the input as printed: invalid UTF-8 is first
// replaced byte by byte with U+FFFD, which is also how the JSON output shows it.
func Redact(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway redact [TEXT…]   (no TEXT: one text per stdin line)")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	emit := func(text string, truncated bool) error {
		text = string([]rune(text)) // each invalid byte becomes one U+FFFD, as the encoder would write it
		masked, spans := redact.Redact(text)
		if spans == nil {
			spans = []redact.Span{}
		}
		return enc.Encode(redactOut{Text: masked, Spans: spans, Truncated: truncated})
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "gateway redact:", err)
		return 1
	}
	if fs.NArg() > 0 {
		for _, text := range fs.Args() {
			if err := emit(text, false); err != nil {
				return fail(err)
			}
		}
		if err := w.Flush(); err != nil {
			return fail(err)
		}
		return 0
	}
	r := bufio.NewReaderSize(stdin, 64<<10)
	for {
		line, truncated, err := readLine(r, maxRedactLine)
		if errors.Is(err, io.EOF) && line == "" {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			_ = w.Flush()
			return fail(fmt.Errorf("reading stdin: %w", err))
		}
		if err := emit(strings.TrimRight(line, "\r"), truncated); err != nil {
			return fail(err)
		}
		// A caller piping one line at a time gets each answer before sending the next.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return fail(err)
			}
		}
		if ctx.Err() != nil {
			_ = w.Flush()
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	return 0
}
