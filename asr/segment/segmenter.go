package segment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"lianxin/asr"
	"lianxin/media"
)

// Recognizer transcribes one whole utterance: the shape of an HTTP transcription endpoint.
type Recognizer interface {
	Recognize(ctx context.Context, u Utterance) (Transcript, error)
	String() string
}

// Utterance is the audio of one utterance.
type Utterance struct {
	Samples []int16
	Rate    int
	// Start is the utterance's position on the stream.
	Start time.Duration
	// Final is false for a partial re-submission of an utterance still in progress.
	Final  bool
	Config asr.StreamConfig
}

// Transcript is a Recognizer's answer. Word times are relative to the utterance start.
type Transcript struct {
	Text       string
	Words      []asr.Word
	Confidence float64 // negative: unknown
	Language   string
}

// errClosed is the cause of a stream's context after a normal Close.
var errClosed = errors.New("stream closed")

// GapText is the text of a synthetic final marking audio that could not be transcribed.
const GapText = "[transcription gap]"

// Config tunes a Segmenter.
type Config struct {
	VAD VADConfig `yaml:"vad"`
	// PreRoll is audio kept from before the detected start of speech (200 ms).
	PreRoll time.Duration `yaml:"pre_roll"`
	// MaxUtterance cuts a monologue into pieces no longer than this (30 s).
	MaxUtterance time.Duration `yaml:"max_utterance"`
	// PartialEvery re-submits the growing utterance at this interval of audio to produce
	// partials (0: no partials). Partials are skipped while the recognizer is busy.
	PartialEvery time.Duration `yaml:"partial_every"`
	// Retries of a failed final before it becomes a gap (2), RetryDelay between them (200 ms).
	Retries    int           `yaml:"retries"`
	RetryDelay time.Duration `yaml:"retry_delay"`
	// Timeout per recognition request (20 s).
	Timeout time.Duration `yaml:"timeout"`
	// Queue is how many finished utterances may wait for the recognizer (16); beyond it,
	// utterances become gaps rather than memory.
	Queue int `yaml:"queue"`
	// MaxStreams limits concurrent streams (0: unlimited).
	MaxStreams int `yaml:"max_streams"`
	// After is the clock used between retries (time.After by default).
	After  func(time.Duration) <-chan time.Time `yaml:"-"`
	Logger *slog.Logger                         `yaml:"-"`
}

func (c Config) withDefaults() Config {
	c.VAD = c.VAD.withDefaults()
	if c.PreRoll == 0 {
		c.PreRoll = 200 * time.Millisecond
	}
	if c.MaxUtterance == 0 {
		c.MaxUtterance = 30 * time.Second
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = 200 * time.Millisecond
	}
	if c.Timeout == 0 {
		c.Timeout = 20 * time.Second
	}
	if c.Queue == 0 {
		c.Queue = 16
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Segmenter is an asr.Engine made of a VAD and an utterance-at-a-time Recognizer.
type Segmenter struct {
	name  string
	rec   Recognizer
	cfg   Config
	slots chan struct{}
}

// NewSegmenter returns an engine called name that recognises through rec.
func NewSegmenter(name string, rec Recognizer, cfg Config) *Segmenter {
	s := &Segmenter{name: name, rec: rec, cfg: cfg.withDefaults()}
	if s.cfg.MaxStreams > 0 {
		s.slots = make(chan struct{}, s.cfg.MaxStreams)
	}
	return s
}

// Name of the engine.
func (g *Segmenter) Name() string { return g.name }

// String describes the chain.
func (g *Segmenter) String() string { return fmt.Sprintf("Segmenter(%s)", g.rec) }

// Close releases nothing: streams own their resources.
func (g *Segmenter) Close() error { return nil }

// NewStream starts a stream; its lifetime ends with ctx or Close.
func (g *Segmenter) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	if g.slots != nil {
		select {
		case g.slots <- struct{}{}:
		default:
			return nil, fmt.Errorf("%s: %w (%d)", g.name, asr.ErrStreamLimit, g.cfg.MaxStreams)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s := &segStream{
		g: g, cfg: cfg, ctx: ctx, cancel: cancel, vad: NewVAD(g.cfg.VAD),
		out: make(chan asr.Result, 16), wake: make(chan struct{}, 1), done: make(chan struct{}),
		log: g.cfg.Logger.With("engine", g.name, "channel", cfg.Channel),
	}
	go s.work()
	return s, nil
}

type job struct {
	id      int
	u       Utterance
	end     time.Duration
	gap     bool // queue overflow: report, do not recognise
	partial bool
}

type segStream struct {
	g      *Segmenter
	cfg    asr.StreamConfig
	ctx    context.Context
	cancel context.CancelCauseFunc
	vad    *VAD
	out    chan asr.Result
	wake   chan struct{}
	done   chan struct{}
	log    *slog.Logger

	wmu         sync.Mutex // Write and Close
	rate        int
	preroll     []media.Frame
	cur         []int16
	curStart    time.Duration
	curEnd      time.Duration
	curID       int
	nextID      int
	lastPartial time.Duration // utterance length at the last partial submission

	qmu    sync.Mutex
	queue  []job
	busy   bool
	closed bool
	err    error

	once sync.Once
}

// Results delivers partials and one final per utterance.
func (s *segStream) Results() <-chan asr.Result { return s.out }

// Err is the last recognition error, if any (a retried request that then succeeded
// included).
func (s *segStream) Err() error {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.err
}

// Write runs the VAD; it never waits for the recognizer.
func (s *segStream) Write(f media.Frame) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("%s: stream ended: %w", s.g.name, context.Cause(s.ctx))
	}
	if s.rate == 0 {
		s.rate = f.Rate
	}
	if f.Rate != s.rate || f.Rate <= 0 {
		return fmt.Errorf("%s: frame rate %d Hz, stream started at %d Hz", s.g.name, f.Rate, s.rate)
	}
	tr := s.vad.Process(f)
	switch {
	case tr == SpeechStart:
		s.curID, s.nextID = s.nextID, s.nextID+1
		s.cur, s.lastPartial = s.cur[:0], 0
		s.curStart = f.Offset
		if len(s.preroll) > 0 {
			s.curStart = s.preroll[0].Offset
		}
		for _, p := range s.preroll {
			s.cur = append(s.cur, p.Samples...)
		}
		s.preroll = s.preroll[:0]
		s.add(f)
	case s.vad.InSpeech() || tr == SpeechEnd:
		s.add(f)
		if tr == SpeechEnd {
			s.finish()
		}
	default:
		// frame buffers are lent (the io.Writer rule): keep a copy
		f.Samples = append([]int16(nil), f.Samples...)
		s.preroll = append(s.preroll, f)
		for len(s.preroll) > 0 && f.Offset+f.Duration()-s.preroll[0].Offset > s.g.cfg.PreRoll {
			s.preroll = s.preroll[1:]
		}
	}
	return nil
}

// add appends a frame to the utterance in progress, cutting it at MaxUtterance and
// submitting a partial when one is due.
func (s *segStream) add(f media.Frame) {
	s.cur = append(s.cur, f.Samples...)
	s.curEnd = f.Offset + f.Duration()
	d := s.curEnd - s.curStart
	if d >= s.g.cfg.MaxUtterance {
		s.finish()
		s.curID, s.nextID = s.nextID, s.nextID+1
		s.curStart, s.lastPartial = s.curEnd, 0
		return
	}
	if s.cfg.Partials && s.g.cfg.PartialEvery > 0 && d-s.lastPartial >= s.g.cfg.PartialEvery {
		s.lastPartial = d
		s.enqueue(job{id: s.curID, partial: true, end: s.curEnd, u: s.utterance(false)}, true)
	}
}

func (s *segStream) utterance(final bool) Utterance {
	return Utterance{Samples: append([]int16(nil), s.cur...), Rate: s.rate, Start: s.curStart, Final: final, Config: s.cfg}
}

// finish queues the utterance in progress for its final.
func (s *segStream) finish() {
	if len(s.cur) == 0 {
		return
	}
	s.enqueue(job{id: s.curID, end: s.curEnd, u: s.utterance(true)}, false)
	s.cur = s.cur[:0]
}

// enqueue adds a job; a partial only when the recognizer is idle, a final always (as a
// gap marker when the queue is full, so memory stays bounded and the loss is visible).
func (s *segStream) enqueue(j job, partial bool) {
	s.qmu.Lock()
	switch {
	case s.closed:
		s.qmu.Unlock()
		return
	case partial && (s.busy || len(s.queue) > 0):
		s.qmu.Unlock()
		return
	case !partial && len(s.queue) >= s.g.cfg.Queue:
		j.gap, j.u.Samples = true, nil
	}
	s.queue = append(s.queue, j)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *segStream) work() {
	defer close(s.done)
	defer close(s.out)
	defer func() {
		if s.g.slots != nil {
			<-s.g.slots
		}
	}()
	partials := map[int]bool{} // utterances that showed a partial
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			closed := s.closed
			s.busy = false
			s.qmu.Unlock()
			if closed {
				return
			}
			select {
			case <-s.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		j := s.queue[0]
		s.queue = s.queue[1:]
		s.busy = true
		s.qmu.Unlock()
		r, ok := s.run(j, partials[j.id])
		if !ok {
			continue
		}
		if !r.Final {
			partials[j.id] = true
		} else {
			delete(partials, j.id)
		}
		select {
		case s.out <- r:
		case <-s.ctx.Done():
			return
		}
	}
}

// run recognises one job; ok is false when there is nothing to report.
func (s *segStream) run(j job, hadPartial bool) (asr.Result, bool) {
	gap := asr.Result{UtteranceID: j.id, Text: GapText, Final: true, Start: j.u.Start, End: j.end, Confidence: -1, Gap: true}
	if j.gap {
		s.setErr(fmt.Errorf("%s: recognizer too slow: utterance at %v dropped", s.g.name, j.u.Start))
		return gap, true
	}
	attempts := 1
	if !j.partial {
		attempts += s.g.cfg.Retries
	}
	var err error
	for a := range attempts {
		if a > 0 {
			select {
			case <-s.g.cfg.After(s.g.cfg.RetryDelay):
			case <-s.ctx.Done():
				return asr.Result{}, false
			}
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.g.cfg.Timeout)
		var t Transcript
		t, err = s.g.rec.Recognize(ctx, j.u)
		cancel()
		if err == nil {
			if t.Text == "" && !hadPartial {
				return asr.Result{}, false // noise, not speech
			}
			return s.result(j, t), true
		}
		if s.ctx.Err() != nil {
			return asr.Result{}, false
		}
		s.setErr(err)
		s.log.Warn("recognition failed", "utterance", j.id, "attempt", a+1, "partial", j.partial, "err", err)
	}
	s.setErr(err)
	if j.partial {
		return asr.Result{}, false
	}
	return gap, true
}

func (s *segStream) result(j job, t Transcript) asr.Result {
	r := asr.Result{
		UtteranceID: j.id, Text: t.Text, Final: !j.partial, Start: j.u.Start, End: j.end,
		Confidence: t.Confidence, Language: t.Language,
	}
	for _, w := range t.Words {
		w.Start += j.u.Start
		w.End += j.u.Start
		r.Words = append(r.Words, w)
	}
	return r
}

func (s *segStream) setErr(err error) {
	s.qmu.Lock()
	s.err = err
	s.qmu.Unlock()
}

// Close submits the utterance in progress and waits for every final.
func (s *segStream) Close() error {
	s.once.Do(func() {
		s.wmu.Lock()
		if s.vad.InSpeech() {
			s.finish()
		}
		s.wmu.Unlock()
		s.qmu.Lock()
		s.closed = true
		s.qmu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
		<-s.done
		s.cancel(errClosed)
	})
	if err := context.Cause(s.ctx); err != nil && !errors.Is(err, errClosed) {
		return err
	}
	return nil
}
