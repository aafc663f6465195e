// Package asr is the speech-recognition contract: an Engine is a factory of Streams, one
// Stream serves one call leg. Engines live in subpackages; a Registry maps names to them.
package asr

import (
	"context"
	"errors"
	"time"

	"lianxin/media"
)

// ErrUnavailable is returned (wrapped) by an engine that cannot run on this machine, e.g.
// the embedded engine built without its C libraries. Callers must surface it, never treat
// it as an empty transcript.
var ErrUnavailable = errors.New("asr: engine unavailable")

// ErrStreamLimit is returned by NewStream when the engine already serves its configured
// maximum number of concurrent streams.
var ErrStreamLimit = errors.New("asr: stream limit reached")

// StreamConfig is the per-stream (per call leg) configuration.
type StreamConfig struct {
	// Language is a BCP-47 tag such as "en-US" or "zh-CN"; empty means the engine default.
	Language string
	// SampleRate of the frames that will be written (8000 or 16000). Engines resample as needed.
	SampleRate int
	// Hotwords are phrases to bias recognition towards (names of places, departments).
	Hotwords []string
	// Partials asks for partial hypotheses while an utterance is in progress.
	Partials bool
	// Channel names the leg ("caller" or "agent"), for logs and results.
	Channel string
}

// Word is one recognised word with its timing, when the engine reports it.
type Word struct {
	Text       string
	Start, End time.Duration
	Confidence float64
}

// Result is one hypothesis. Partials of an utterance precede its single final; Text is
// always the full hypothesis of the utterance so far, never a delta.
type Result struct {
	UtteranceID int
	Text        string
	Final       bool
	// Start and End are relative to the start of the stream (the call's start for live legs).
	Start, End time.Duration
	// Confidence is in [0,1]; negative means the engine does not say.
	Confidence float64
	Words      []Word
	Language   string
	// Gap is set on a synthetic final that marks audio which could not be transcribed
	// (an engine that could not recover); Text then says so and Start/End cover the gap.
	Gap bool
}

// Stream serves one call leg. Write never blocks for long and does not keep the frame's
// samples after it returns (they are lent, as on every media.FrameWriter: a stream copies
// what it queues; the conformance kit checks this). Results is closed after Close has
// flushed the last final (or after the stream failed for good).
type Stream interface {
	Write(media.Frame) error
	Results() <-chan Result
	// Close flushes: the final of the utterance in progress is delivered before Results closes.
	// It is idempotent.
	Close() error
}

// Checker is an engine that can tell, before any call, whether its server takes its
// configuration (the model it names, the options that model accepts), so that a setting
// the server refuses shows at start-up and in `gateway asr probe` rather than as a gap in
// every utterance. Check asks the server now; it errs when the engine cannot work.
type Checker interface {
	Check(ctx context.Context) error
}

// Engine is a factory of streams. It is safe for concurrent use.
type Engine interface {
	Name() string
	NewStream(ctx context.Context, cfg StreamConfig) (Stream, error)
	Close() error
}
