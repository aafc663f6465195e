// Package workorder drafts the hotline's work order (工单) from a call as it happens and
// hands submitted orders to the hotline's work-order system.
//
// A draft is filled from the caller's transcript: the callback number they say (digits or
// spoken numerals: 幺三八…), the department and issue type from dispatch, the place and the
// spoken address, the event time, an urgency flag (gas, fire, people trapped, self-harm) and
// a summary (诉求摘要): extractive while the call goes on and whenever the language model is
// missing, slow or answers anything it cannot back with the transcript.
//
// Delivery is at-least-once with one idempotency key per submitted version: a Worker takes
// due deliveries from a durable Queue (the store), signs each with HMAC-SHA256 and retries
// with exponential backoff until the receiver answers with its order number or the delivery
// grows too old and becomes a dead letter.
//
// The package imports only the leaves dispatch and redact.
package workorder

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"lianxin/dispatch"
	"lianxin/redact"
)

// Summary sources.
const (
	SourceExtractive = "extractive"
	SourceLLM        = "llm"
)

// Fields is the work order as the agent sees and edits it. Every field but CallerNumber
// comes from what the caller said; empty means not said (yet).
type Fields struct {
	CallerNumber   string `json:"caller_number,omitempty"`
	CallbackNumber string `json:"callback_number,omitempty"`
	Department     string `json:"department,omitempty"` // department id
	DepartmentName string `json:"department_name,omitempty"`
	// Decided says the department is the agent's decision rather than a suggestion.
	Decided   bool   `json:"decided,omitempty"`
	Issue     string `json:"issue,omitempty"` // issue type id
	IssueName string `json:"issue_name,omitempty"`
	Place     string `json:"place,omitempty"`
	Address   string `json:"address,omitempty"`
	EventTime string `json:"event_time,omitempty"`
	Summary   string `json:"summary,omitempty"`
	// SummarySource is SourceExtractive or SourceLLM.
	SummarySource string   `json:"summary_source,omitempty"`
	Urgent        bool     `json:"urgent,omitempty"`
	UrgentReasons []string `json:"urgent_reasons,omitempty"`
}

// Draft is a call's work-order draft. Complete marks the one made at hang-up.
type Draft struct {
	CallID   string `json:"call_id"`
	Complete bool   `json:"complete,omitempty"`
	Fields
}

// Input is what a draft is built from.
type Input struct {
	CallID       string
	CallerNumber string // from caller ID
	// Text is what the caller said so far, utterances in order.
	Text []string
	// Department is the agent's decision when Decided, else the best suggestion (may be
	// empty: the builder ranks the text itself).
	Department string
	Decided    bool
}

// Summarizer writes the summary from the transcript and the extracted fields; an error
// (timeout, refusal, invented facts) lets the extractive summary stand.
type Summarizer interface {
	Summarize(ctx context.Context, text string, f Fields) (string, error)
}

// Config are the builder's collaborators.
type Config struct {
	Classifier *dispatch.Classifier // required
	Summarizer Summarizer           // optional: the LLM backend
	// SummaryTimeout bounds the summarizer at hang-up; default 5s.
	SummaryTimeout time.Duration
}

// Builder builds drafts. It holds no per-call state and is safe for concurrent use.
type Builder struct {
	cfg    Config
	issues *dispatch.IssueClassifier
}

// NewBuilder returns a builder; the classifier's issue model is trained here, once.
func NewBuilder(cfg Config) (*Builder, error) {
	if cfg.SummaryTimeout <= 0 {
		cfg.SummaryTimeout = 5 * time.Second
	}
	ic, err := cfg.Classifier.IssueClassifier()
	if err != nil {
		return nil, err
	}
	return &Builder{cfg: cfg, issues: ic}, nil
}

// minIssueScore is the least probability at which an issue type is put in the draft: a
// guess below it is noise the agent would have to clear.
const minIssueScore = 0.3

// Live builds the draft during the call: extraction and the extractive summary only, so
// that it is cheap enough to run on every final utterance.
func (b *Builder) Live(in Input) Draft {
	text := strings.Join(in.Text, "，")
	f := Fields{CallerNumber: in.CallerNumber, Decided: in.Decided}
	f.CallbackNumber = CallbackNumber(text)
	b.classify(&f, text, in.Department)
	f.Place, f.Address = placeAndAddress(text)
	f.EventTime = EventTime(text)
	f.UrgentReasons = Urgency(text)
	f.Urgent = len(f.UrgentReasons) > 0
	f.Summary, f.SummarySource = Extractive(in.Text, f), SourceExtractive
	return Draft{CallID: in.CallID, Fields: f}
}

// Complete builds the draft at hang-up: Live, then the summarizer's summary when it
// answers within the timeout with nothing it cannot back.
func (b *Builder) Complete(ctx context.Context, in Input) Draft {
	d := b.Live(in)
	d.Complete = true
	if b.cfg.Summarizer == nil || len(in.Text) == 0 {
		return d
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SummaryTimeout)
	defer cancel()
	if s, err := b.cfg.Summarizer.Summarize(ctx, strings.Join(in.Text, "，"), d.Fields); err == nil && s != "" {
		d.Summary, d.SummarySource = s, SourceLLM
	}
	return d
}

// classify fills department and issue type: the decided or suggested department, else the
// classifier's best; the issue type is ranked with that department as prior.
func (b *Builder) classify(f *Fields, text, dept string) {
	tax := b.cfg.Classifier.Taxonomy()
	if dept == "" {
		if s := b.cfg.Classifier.Rank(text, 1); len(s) > 0 && s[0].Score > 0 {
			dept = s[0].ID
		}
	}
	if i := tax.Index(dept); i >= 0 {
		f.Department, f.DepartmentName = dept, tax.Departments[i].Name
	}
	prior := ""
	if f.Decided {
		prior = f.Department
	}
	if is := b.issues.Rank(text, prior, 1); len(is) > 0 && is[0].Score >= minIssueScore {
		f.Issue, f.IssueName = is[0].ID, is[0].Name
	}
}

// CallbackNumber is the last mobile or landline the caller said (a correction comes after
// what it corrects), as digits; "" when none.
func CallbackNumber(text string) string {
	spans := redact.Find(text)
	runes := []rune(text)
	for i := len(spans) - 1; i >= 0; i-- {
		s := spans[i]
		if s.Kind != redact.Mobile && s.Kind != redact.Landline {
			continue
		}
		if d := plausible(s.Kind, Digits(string(runes[s.Start:s.End]))); d != "" {
			return d
		}
	}
	return ""
}

// plausible returns d when it can be dialled back: a mobile of 11 digits (a +86 or 0 said
// before it dropped), a landline with its area code of 10 to 12 digits. A number the
// recogniser garbled (a digit dropped or doubled) is left for the agent to ask again.
func plausible(k redact.Kind, d string) string {
	if k == redact.Mobile {
		for _, p := range []string{"0086", "86", "0"} {
			if len(d) > 11 && strings.HasPrefix(d, p) {
				d = d[len(p):]
			}
		}
		if len(d) == 11 && d[0] == '1' {
			return d
		}
		return ""
	}
	if len(d) >= 10 && len(d) <= 12 && d[0] == '0' {
		return d
	}
	return ""
}

// Digits reads the digits of a number as said: Arabic or full-width digits and the
// numerals callers read numbers with (幺 and 要 for 1, 两 for 2, 洞 and 〇 for 0); anything
// else (pauses, commas, 嗯) is dropped.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		default:
			if i := strings.IndexRune("零一二三四五六七八九", r); i >= 0 {
				b.WriteByte('0' + byte(utf8.RuneCountInString("零一二三四五六七八九"[:i])))
				continue
			}
			switch r {
			case '〇', '洞':
				b.WriteByte('0')
			case '幺', '要':
				b.WriteByte('1')
			case '两':
				b.WriteByte('2')
			}
		}
	}
	return b.String()
}
