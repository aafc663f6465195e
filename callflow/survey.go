package callflow

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/go-audio/wav"
)

// SurveyResult is a caller's answer to the satisfaction survey (满意度回访).
type SurveyResult uint8

// Survey results. A call without a survey has none (the zero value).
const (
	// SurveySatisfied: key 1, 满意.
	SurveySatisfied SurveyResult = iota + 1
	// SurveyBasic: key 2, 基本满意.
	SurveyBasic
	// SurveyDissatisfied: key 3, 不满意.
	SurveyDissatisfied
	// SurveyNoAnswer: the caller pressed nothing usable, twice, or hung up.
	SurveyNoAnswer
)

func (r SurveyResult) String() string {
	switch r {
	case SurveySatisfied:
		return "satisfied"
	case SurveyBasic:
		return "basic"
	case SurveyDissatisfied:
		return "dissatisfied"
	case SurveyNoAnswer:
		return "no_answer"
	}
	return ""
}

// The built-in prompts, rendered once by scripts/make-prompts.sh (espeak-ng), so the
// gateway needs no speech synthesis.
var (
	//go:embed prompts/survey.wav
	builtinSurvey []byte
	//go:embed prompts/thanks.wav
	builtinThanks []byte
)

// BuiltinPrompts returns the survey's question ("满意请按1，基本满意请按2，不满意请按3") and its
// thanks, as 8 kHz PCM.
func BuiltinPrompts() (question, thanks []int16, err error) {
	if question, err = decodePrompt(builtinSurvey); err != nil {
		return nil, nil, err
	}
	thanks, err = decodePrompt(builtinThanks)
	return question, thanks, err
}

func decodePrompt(b []byte) ([]int16, error) {
	d := wav.NewDecoder(bytes.NewReader(b))
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, err
	}
	if d.SampleRate != 8000 || d.NumChans != 1 {
		return nil, fmt.Errorf("prompt: want 8 kHz mono, got %d Hz %d channels", d.SampleRate, d.NumChans)
	}
	pcm := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		pcm[i] = int16(v)
	}
	return pcm, nil
}

// errSurveyRepeat asks for the question again: no key, or a key that is not 1–3.
var errSurveyRepeat = errors.New("no usable key")

// survey asks the caller, still on the line after the agent hung up, how satisfied they
// were: the question (a key interrupts it), a wait for the key, once more if nothing
// usable came, then thanks. A caller who hangs up has answered nothing.
func (c *Call) survey(ctx context.Context) SurveyResult {
	keys := make(chan rune, 8)
	c.callerLeg.OnDTMF(func(_ string, d rune, _ time.Duration) {
		select {
		case keys <- d:
		default:
		}
	})
	defer c.callerLeg.OnDTMF(nil)
	for range 2 {
		r, err := c.ask(ctx, keys)
		if err == nil {
			c.log.Info("satisfaction survey answered", "result", r)
			_ = c.callerLeg.Play(ctx, c.f.cfg.SurveyThanks, false)
			return r
		}
		if ctx.Err() != nil {
			break
		}
	}
	c.log.Info("satisfaction survey not answered", "cause", context.Cause(ctx))
	return SurveyNoAnswer
}

// ask plays the question and waits for a key until SurveyTimeout after it ends.
func (c *Call) ask(ctx context.Context, keys <-chan rune) (SurveyResult, error) {
	prompt, stop := context.WithCancel(ctx)
	defer stop()
	playing := make(chan struct{})
	go func() { defer close(playing); _ = c.callerLeg.Play(prompt, c.f.cfg.SurveyQuestion, false) }()
	defer func() { stop(); <-playing }()
	played := (<-chan struct{})(playing)
	var timeout <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-played:
			played = nil // the question is over: wait on for the key
			t := time.NewTimer(c.f.cfg.SurveyTimeout)
			defer t.Stop()
			timeout = t.C
		case <-timeout:
			return 0, errSurveyRepeat
		case k := <-keys:
			switch k {
			case '1':
				return SurveySatisfied, nil
			case '2':
				return SurveyBasic, nil
			case '3':
				return SurveyDissatisfied, nil
			}
			return 0, errSurveyRepeat
		}
	}
}
