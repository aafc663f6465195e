package dispatch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Example is one labelled utterance, a line of a JSONL training file. Feedback lines carry
// the call, what was suggested and the agent's decision as well.
type Example struct {
	Lang  string `json:"lang"`
	Text  string `json:"text"`
	Label string `json:"label"`
	Alt   string `json:"alt,omitempty"`

	CallID    string `json:"call_id,omitempty"`
	Suggested string `json:"suggested,omitempty"`
	Decision  string `json:"decision,omitempty"` // "accept" or "override"
}

// maxExampleBytes bounds one JSONL line.
const maxExampleBytes = 1 << 20

// ReadExamples reads a JSONL file of examples. Blank lines are skipped; any other line that
// is not a valid example is an error naming the line.
func ReadExamples(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dispatch: examples: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxExampleBytes)
	var out []Example
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		ex, err := parseExample([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("dispatch: %s:%d: %w", path, n, err)
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dispatch: %s: %w", path, err)
	}
	return out, nil
}

// LoadExamples reads every *.jsonl file of a folder, in name order.
func LoadExamples(dir string) ([]Example, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("dispatch: no *.jsonl files in %s", dir)
	}
	sort.Strings(paths)
	var out []Example
	for _, p := range paths {
		exs, err := ReadExamples(p)
		if err != nil {
			return nil, err
		}
		out = append(out, exs...)
	}
	return out, nil
}

// parseExample decodes and checks one JSONL line.
func parseExample(line []byte) (Example, error) {
	var ex Example
	if err := json.Unmarshal(line, &ex); err != nil {
		return Example{}, err
	}
	if err := ex.check(); err != nil {
		return Example{}, err
	}
	return ex, nil
}

func (ex *Example) check() error {
	if !utf8.ValidString(ex.Text) {
		return errors.New("text is not valid UTF-8")
	}
	if strings.TrimSpace(ex.Text) == "" {
		return errors.New("empty text")
	}
	if ex.Label == "" {
		return errors.New("no label")
	}
	if ex.Lang == "" {
		ex.Lang = DetectLang(ex.Text)
	}
	return nil
}

// Feedback turns an agent's decision into an example: the department the agent dispatched
// to is the label; if the agent overrode the suggestion, the suggestion becomes the alt.
func Feedback(callID, transcript string, suggested []Suggestion, chosen string) Example {
	ex := Example{Text: transcript, Label: chosen, CallID: callID, Decision: "accept"}
	if len(suggested) > 0 {
		ex.Suggested = suggested[0].ID
		if suggested[0].ID != chosen {
			ex.Decision = "override"
		}
	}
	return ex
}

// AppendFeedback appends one example as a JSONL line to the file at path, creating it. The
// line goes out in a single write, so concurrent appenders do not interleave lines.
func AppendFeedback(path string, ex Example) error {
	ex.Text = strings.Join(strings.Fields(ex.Text), " ")
	if err := ex.check(); err != nil {
		return fmt.Errorf("dispatch: feedback: %w", err)
	}
	line, err := json.Marshal(ex)
	if err != nil {
		return fmt.Errorf("dispatch: feedback: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dispatch: feedback: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("dispatch: feedback: %w", err)
	}
	return f.Close()
}
