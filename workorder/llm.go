package workorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lianxin/dispatch"
)

// LLMConfig points at an OpenAI-compatible chat-completions endpoint (a model on the
// hotline's own network: Qwen on vLLM or Ollama).
type LLMConfig struct {
	URL     string        // base URL (…/v1) or the full …/chat/completions endpoint
	Model   string        // model name sent in the request
	APIKey  string        // sent as a bearer token when set
	Timeout time.Duration // per request; default 5s
}

// LLM writes summaries with a language model and checks each answer against the
// transcript: a summary naming a place, number or address the caller never said is refused.
type LLM struct {
	cfg  LLMConfig
	chat *dispatch.Chat
}

// NewLLM returns the summarizer; client may be nil.
func NewLLM(cfg LLMConfig, client *http.Client) (*LLM, error) {
	if cfg.URL == "" {
		return nil, errors.New("workorder: llm: no URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &LLM{cfg: cfg, chat: dispatch.NewChat(cfg.URL, cfg.Model, cfg.APIKey, client)}, nil
}

// Timeout is the per-request timeout.
func (l *LLM) Timeout() time.Duration { return l.cfg.Timeout }

// String names the backend for logs.
func (l *LLM) String() string { return l.chat.String() }

const summaryPrompt = `你是12345政务服务便民热线的工单助手。根据来电人原话写工单的诉求摘要，格式为“市民来电反映：<地点>，<问题>。诉求：<诉求>。”。` +
	`只能使用来电内容中出现过的事实，不得编造地点、号码、时间、人名或数量；没有说到的项留空字符串。` +
	`只回答一个JSON对象，不要任何其他文字：{"who":"","where":"","what":"","want":"","summary":""}`

// Summarize implements Summarizer.
func (l *LLM) Summarize(ctx context.Context, text string, f Fields) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	user := "来电内容：" + text
	if f.Place != "" {
		user += "\n已识别地点：" + f.Place
	}
	content, err := l.chat.Ask(ctx, summaryPrompt, user)
	if err != nil {
		return "", fmt.Errorf("workorder: llm: %w", err)
	}
	s, err := checkSummary(content, text, f)
	if err != nil {
		return "", err
	}
	if f.Urgent && !strings.HasPrefix(s, "【紧急】") {
		s = "【紧急】" + s
	}
	return s, nil
}

// summaryAnswer is the JSON the model must answer with, and nothing else.
type summaryAnswer struct {
	Who     string `json:"who"`
	Where   string `json:"where"`
	What    string `json:"what"`
	Want    string `json:"want"`
	Summary string `json:"summary"`
}

// numberRun is a number in a summary: each must have been said. A single numeral counts only
// before a unit (5号楼, 三天), as 一 and 两 are also words (统一, 两边).
var numberRun = regexp.MustCompile(numeral + `{2,}|` + numeral + `(?:号|栋|幢|楼|层|室|单元|点|月|日|天|岁|个|元|块|户|路)`)

// anyNumber is every number in a transcript.
var anyNumber = regexp.MustCompile(numeral + `+`)

// numberValue reads a number the same way whether written or said: 十一 and 11 are "11",
// 三 and 3 are "3", a number read digit by digit (幺三八…) its digits.
func numberValue(s string) string {
	s = strings.TrimRight(s, "号栋幢楼层室单元点月日天岁个元块户路")
	if !strings.ContainsAny(s, "十百") {
		return Digits(s)
	}
	total, cur := 0, 0
	for _, r := range s {
		switch r {
		case '十':
			if cur == 0 {
				cur = 1
			}
			total, cur = total+cur*10, 0
		case '百':
			total, cur = total+cur*100, 0
		default:
			if d := Digits(string(r)); d != "" {
				cur = cur*10 + int(d[0]-'0')
			}
		}
	}
	return strconv.Itoa(total + cur)
}

// checkSummary accepts the model's answer only when it is the JSON asked for and every
// place, address and number in it was said by the caller (or is the extracted place).
func checkSummary(content, text string, f Fields) (string, error) {
	var ans summaryAnswer
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ans); err != nil {
		return "", fmt.Errorf("workorder: llm: answer is not the JSON asked for: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("workorder: llm: trailing data after the JSON answer")
	}
	ans.Summary = strings.TrimSpace(ans.Summary)
	if ans.Summary == "" || utf8.RuneCountInString(ans.Summary) > 2*maxSummaryRunes {
		return "", errors.New("workorder: llm: summary empty or too long")
	}
	said := compact(text)
	if w := compact(ans.Where); w != "" && !strings.Contains(said, w) && w != compact(f.Place) && w != compact(f.Address) {
		return "", fmt.Errorf("workorder: llm: place %q was not said", ans.Where)
	}
	numbers := map[string]bool{}
	for _, n := range anyNumber.FindAllString(text, -1) {
		numbers[numberValue(n)] = true
	}
	all := strings.Join([]string{ans.Who, ans.Where, ans.What, ans.Want, ans.Summary}, "，")
	for _, n := range numberRun.FindAllString(all, -1) {
		if !strings.Contains(said, n) && !numbers[numberValue(n)] {
			return "", fmt.Errorf("workorder: llm: number %q was not said", n)
		}
	}
	for _, p := range dispatch.Places(all) {
		if !strings.Contains(said, compact(p.Name)) && !strings.Contains(compact(f.Place), compact(p.Name)) {
			return "", fmt.Errorf("workorder: llm: place %q was not said", p.Name)
		}
	}
	return ans.Summary, nil
}

// compact drops spaces and punctuation so that a quote is found however it was punctuated.
func compact(s string) string {
	return clauseBreak.ReplaceAllString(s, "")
}
