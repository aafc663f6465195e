package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"lianxin/dispatch"
)

// maxClassifyLine bounds one stdin line of `gateway classify`; the rest of a longer line is
// skipped and the answer says it was truncated.
const maxClassifyLine = 1 << 20

type classifyOut struct {
	Text        string          `json:"text"`
	Departments []classifiedDep `json:"departments"`
	Backend     string          `json:"backend,omitempty"`
	Truncated   bool            `json:"truncated,omitempty"`
}

type classifiedDep struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Score    float64  `json:"score"`
	Evidence []string `json:"evidence,omitempty"`
}

// Classify is `gateway classify`: department suggestions for each TEXT argument, else each
// stdin line, one JSON line each.
func Classify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	top := fs.Int("top", 3, "how many departments to list")
	model := fs.String("model", "", "model file (default: the built-in model)")
	taxonomy := fs.String("taxonomy", "", "taxonomy config (default: the built-in one)")
	llmURL := fs.String("llm-url", "", "OpenAI-compatible endpoint to ask first (optional)")
	llmModel := fs.String("llm-model", "", "model name for --llm-url")
	llmTimeout := fs.Duration("llm-timeout", 3*time.Second, "timeout per --llm-url request")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway classify [--top N] [--model FILE] [--taxonomy FILE] [--llm-url URL] [TEXT…]")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *top < 1 {
		fmt.Fprintln(stderr, "gateway classify: --top must be at least 1")
		return 2
	}
	c, err := dispatch.Load(*taxonomy, *model)
	if err != nil {
		fmt.Fprintln(stderr, "gateway classify:", err)
		return 1
	}
	rank := func(text string) ([]dispatch.Suggestion, string) { return c.Rank(text, *top), "" }
	if *llmURL != "" {
		llm, err := dispatch.NewLLM(dispatch.LLMConfig{URL: *llmURL, Model: *llmModel, Timeout: *llmTimeout}, c, nil, nil)
		if err != nil {
			fmt.Fprintln(stderr, "gateway classify:", err)
			return 1
		}
		rank = func(text string) ([]dispatch.Suggestion, string) { return llm.Rank(ctx, text, *top) }
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	emit := func(text string, truncated bool) error {
		sug, backend := rank(text)
		out := classifyOut{Text: text, Departments: make([]classifiedDep, len(sug)), Backend: backend, Truncated: truncated}
		for i, s := range sug {
			out.Departments[i] = classifiedDep{ID: s.ID, Name: s.Name, Score: math.Round(s.Score*1e4) / 1e4, Evidence: s.Evidence}
		}
		return enc.Encode(out)
	}
	if fs.NArg() > 0 {
		for _, text := range fs.Args() {
			if err := emit(text, false); err != nil {
				fmt.Fprintln(stderr, "gateway classify:", err)
				return 1
			}
		}
		return 0
	}
	r := bufio.NewReaderSize(stdin, 64<<10)
	for {
		line, truncated, err := readLine(r, maxClassifyLine)
		if errors.Is(err, io.EOF) && line == "" {
			return 0
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(stderr, "gateway classify: reading stdin:", err)
			return 1
		}
		if err := emit(strings.TrimRight(line, "\r"), truncated); err != nil {
			fmt.Fprintln(stderr, "gateway classify:", err)
			return 1
		}
		if ctx.Err() != nil {
			return 1
		}
	}
}

// readLine returns the next line without its newline, at most limit bytes of it.
func readLine(r *bufio.Reader, limit int) (string, bool, error) {
	var b []byte
	truncated := false
	for {
		chunk, err := r.ReadSlice('\n')
		if room := limit - len(b); room > 0 {
			b = append(b, chunk[:min(len(chunk), room)]...)
		} else if len(chunk) > 0 {
			truncated = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line := strings.TrimSuffix(string(b), "\n")
		if len(b) >= limit && !strings.HasSuffix(string(b), "\n") && err == nil {
			truncated = true
		}
		return line, truncated, err
	}
}

// Dispatch is `gateway dispatch train|retrain|eval`: building and measuring the dispatch
// model.
func Dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const usage = `usage: gateway dispatch <command> [flags]
  train    --data DIR --out FILE [--algo lr|nb] [--taxonomy FILE]   build a model from labelled JSONL
  retrain  --data DIR --feedback FILE --out FILE                      the same, plus agents' feedback
  eval     --data DIR [--model FILE] [--taxonomy FILE] [--misses]     accuracy on a labelled set`
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "train", "retrain":
		return runTrain(args[0], args[1:], stdout, stderr)
	case "eval":
		return runEval(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "gateway dispatch: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
}

func runTrain(cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dispatch "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "folder of *.jsonl training examples")
	feedback := fs.String("feedback", "", "JSONL file of agents' feedback examples")
	out := fs.String("out", "", "model file to write")
	algo := fs.String("algo", dispatch.AlgoBlend, "lr+nb (blend), lr (logistic regression) or nb (naive Bayes)")
	var opts dispatch.TrainOptions
	fs.IntVar(&opts.MinDF, "min-df", 0, "drop n-grams heard in fewer examples (0: default)")
	fs.IntVar(&opts.Epochs, "epochs", 0, "logistic regression passes (0: default)")
	fs.Float64Var(&opts.L2, "l2", 0, "weight decay (0: default)")
	fs.Float64Var(&opts.MixZH, "mix-zh", 0, "blend: logistic regression's share for Chinese (0: default)")
	fs.Float64Var(&opts.MixEN, "mix-en", 0, "blend: logistic regression's share for English (0: default)")
	taxonomy := fs.String("taxonomy", "", "taxonomy config (default: the built-in one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts.Algo = *algo
	if *data == "" || *out == "" || cmd == "retrain" && *feedback == "" {
		fmt.Fprintf(stderr, "gateway dispatch %s: --data and --out are required (retrain: --feedback too)\n", cmd)
		return 2
	}
	tax, err := loadTaxonomy(*taxonomy)
	if err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	exs, err := dispatch.LoadExamples(*data)
	if err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	nfb := 0
	if *feedback != "" {
		fb, err := dispatch.ReadExamples(*feedback)
		if err != nil {
			fmt.Fprintln(stderr, "gateway dispatch:", err)
			return 1
		}
		exs, nfb = append(exs, fb...), len(fb)
	}
	m, err := dispatch.Train(tax, exs, opts)
	if err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	if err := m.Save(*out); err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	fmt.Fprintf(stdout, "trained %s on %d examples (%d feedback) → %s\n", m.Algo, len(exs), nfb, *out)
	return 0
}

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dispatch eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "folder of *.jsonl labelled examples")
	model := fs.String("model", "", "model file (default: the built-in model)")
	taxonomy := fs.String("taxonomy", "", "taxonomy config (default: the built-in one)")
	worst := fs.Int("worst", 8, "how many confused pairs to list")
	misses := fs.Bool("misses", false, "list every example whose top-1 was wrong")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" {
		fmt.Fprintln(stderr, "gateway dispatch eval: --data is required")
		return 2
	}
	c, err := dispatch.Load(*taxonomy, *model)
	if err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	exs, err := dispatch.LoadExamples(*data)
	if err != nil {
		fmt.Fprintln(stderr, "gateway dispatch:", err)
		return 1
	}
	rep := dispatch.Evaluate(c, exs, time.Now)
	rep.Print(stdout, *worst)
	if *misses {
		for _, m := range rep.Misses {
			fmt.Fprintf(stdout, "  %s → %s: %s\n", m.Label, m.Suggested, m.Text)
		}
	}
	return 0
}

func loadTaxonomy(path string) (*dispatch.Taxonomy, error) {
	if path == "" {
		return dispatch.DefaultTaxonomy()
	}
	return dispatch.LoadTaxonomy(path)
}
