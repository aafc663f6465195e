//go:build cgo && !nopocketsphinx

package pocketsphinx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"lianxin/asr"
	"lianxin/asr/internal/resample"
	"lianxin/media"
)

// prespeech is the audio pocketsphinx's VAD hands the decoder from before the point where it
// declared speech (-vad_prespeech 20 frames); the utterance clock starts there.
const prespeech = 200 * time.Millisecond

// samplesPerFrame is pocketsphinx's feature frame shift at 16 kHz (-frate 100).
const samplesPerFrame = 160

// stream is one call leg on one decoder. Write and Close run on the caller's goroutines;
// everything touching the decoder runs on the worker's.
type stream struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	scfg    asr.StreamConfig
	cfg     Config
	in      chan media.Frame
	closing chan struct{}
	results chan asr.Result
	done    chan struct{}
	dropped atomic.Int64
	m       *metrics

	closeOnce sync.Once
	err       error // set before done is closed
}

func newStream(ctx context.Context, scfg asr.StreamConfig, cfg Config, m *metrics) *stream {
	ctx, cancel := context.WithCancelCause(ctx)
	return &stream{
		ctx: ctx, cancel: cancel, scfg: scfg, cfg: cfg, m: m,
		in:      make(chan media.Frame, cfg.QueueFrames),
		closing: make(chan struct{}),
		results: make(chan asr.Result, 256),
		done:    make(chan struct{}),
	}
}

// String names the stream for logs.
func (s *stream) String() string { return fmt.Sprintf("pocketsphinx stream(%s)", s.scfg.Channel) }

// Write queues a frame for the decoder without blocking; a full queue drops the frame and
// counts it (Dropped). The samples are copied: the caller's buffer is only lent.
func (s *stream) Write(f media.Frame) error {
	select {
	case <-s.closing:
		return fmt.Errorf("pocketsphinx: write on closed stream")
	case <-s.done:
		return fmt.Errorf("pocketsphinx: stream ended: %w", context.Cause(s.ctx))
	default:
	}
	f.Samples = append([]int16(nil), f.Samples...)
	select {
	case s.in <- f:
	default:
		s.dropped.Add(1)
		s.m.dropped.Inc()
	}
	return nil
}

// WriteWait queues a frame, waiting for room: back-pressure for offline input (files),
// where every frame must reach the decoder and pacing follows the decoder's speed.
func (s *stream) WriteWait(ctx context.Context, f media.Frame) error {
	f.Samples = append([]int16(nil), f.Samples...)
	select {
	case s.in <- f:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.closing:
		return fmt.Errorf("pocketsphinx: write on closed stream")
	case <-s.done:
		return fmt.Errorf("pocketsphinx: stream ended: %w", context.Cause(s.ctx))
	}
}

// Dropped is how many frames Write dropped because the decoder was behind.
func (s *stream) Dropped() int64 { return s.dropped.Load() }

// Results delivers partials and finals; it is closed when the stream has ended.
func (s *stream) Results() <-chan asr.Result { return s.results }

// Close flushes the utterance in progress (its final is delivered), then releases the
// decoder. Idempotent; returns the error the stream ended with, if any.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.done
	s.cancel(errors.New("stream closed"))
	if s.err != nil && !errors.Is(s.err, context.Canceled) {
		return s.err
	}
	return nil
}

func (s *stream) finish(err error) {
	s.err = err
	close(s.results)
	close(s.done)
}

func (s *stream) emit(r asr.Result) error {
	select {
	case s.results <- r:
		return nil
	case <-s.ctx.Done():
		return context.Cause(s.ctx)
	}
}

// utt is the worker's view of the utterance in progress.
type utt struct {
	id       int
	speaking bool
	start    time.Duration // stream time of the first frame the decoder got
	lastPart time.Duration // stream time of the last partial check
	partial  string
	nPartial int
}

// session is the per-stream state on the worker.
type session struct {
	w    *worker
	s    *stream
	rs   *resample.Resampler
	rate int
	pos  time.Duration // stream time at the end of the audio fed so far
	u    utt
	// posBase is the stream time of the first frame and fedBase the decoder's sample count
	// then: together they map the decoder's frame numbers to stream time.
	posBase time.Duration
	fedBase int64
}

// serve runs one stream to its end: flush on Close, discard on cancel or engine shutdown.
func (w *worker) serve(s *stream, quit <-chan struct{}) error {
	ss := &session{w: w, s: s}
	started := false
	defer func() {
		if w.dec.inUtt {
			w.dec.end() // discard what a cancelled stream left
		}
	}()
	for {
		var f media.Frame
		select {
		case f = <-s.in:
		case <-s.closing:
			return ss.flush(started)
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		case <-quit:
			return fmt.Errorf("pocketsphinx: engine closed: %w", asr.ErrUnavailable)
		}
		if !started {
			if err := ss.begin(f); err != nil {
				return err
			}
			started = true
		}
		if err := ss.feed(f); err != nil {
			return err
		}
	}
}

// begin chooses the band from the first frame's rate and starts the decoder's utterance.
func (ss *session) begin(f media.Frame) error {
	rate := f.Rate
	ss.posBase, ss.fedBase = f.Offset, ss.w.dec.fed
	band := ss.w.cfg.Band
	if band == BandAuto {
		band = BandWideband
		if rate == 8000 || (rate == 0 && ss.s.scfg.SampleRate == 8000) {
			band = BandTelephone
		}
	}
	cmn := ss.w.cfg.WidebandCMN
	if band == BandTelephone {
		cmn = ss.w.cfg.TelephoneCMN
	}
	// each stream starts from its band's mean; live CMN then adapts within the call
	if err := ss.w.dec.setCMN(cmn); err != nil {
		return err
	}
	return ss.w.dec.start()
}

// feed resamples a frame to 16 kHz, decodes it and emits what the VAD state calls for.
func (ss *session) feed(f media.Frame) error {
	rate := f.Rate
	if rate <= 0 {
		rate = ss.s.scfg.SampleRate
	}
	if rate <= 0 {
		return fmt.Errorf("pocketsphinx: frame without a sample rate")
	}
	if rate != ss.rate {
		ss.rate, ss.rs = rate, nil
		if rate != 16000 {
			rs, err := resample.New(rate, 16000)
			if err != nil {
				return fmt.Errorf("pocketsphinx: %w", err)
			}
			ss.rs = rs
		}
	}
	pcm := f.Samples
	if ss.rs != nil {
		pcm = ss.rs.Process(pcm)
	}
	if f.Offset > 0 {
		ss.pos = f.Offset
	}
	ss.pos += time.Duration(len(f.Samples)) * time.Second / time.Duration(rate)
	inSpeech, err := ss.w.dec.process(pcm)
	if err != nil {
		return err
	}
	if inSpeech {
		// adapt the cepstral mean within the utterance too: a first utterance normalised by
		// the start value alone scored ~4 points worse on testdata/asr
		ss.w.dec.updateCMN()
	}
	return ss.step(inSpeech)
}

func (ss *session) step(inSpeech bool) error {
	u := &ss.u
	switch {
	case inSpeech && !u.speaking:
		ss.u = utt{id: u.id + 1, speaking: true, start: max(0, ss.pos-prespeech), lastPart: ss.pos}
	case inSpeech && ss.s.scfg.Partials && ss.pos-u.lastPart >= ss.w.cfg.PartialInterval:
		u.lastPart = ss.pos
		if h := ss.w.dec.hyp(); h != "" && h != u.partial {
			u.partial = h
			u.nPartial++
			return ss.s.emit(asr.Result{UtteranceID: u.id, Text: h, Start: u.start, End: ss.pos, Confidence: -1, Language: "en-US"})
		}
	case !inSpeech && u.speaking:
		if err := ss.final(); err != nil {
			return err
		}
		return ss.w.dec.start()
	}
	return nil
}

// final ends the decoder's utterance and emits its final (nothing for an utterance that
// produced neither words nor partials: noise the VAD took for speech).
func (ss *session) final() error {
	u := &ss.u
	u.speaking = false
	text, words, err := ss.w.dec.end()
	if err != nil {
		return err
	}
	if text == "" && u.nPartial == 0 {
		return nil
	}
	r := asr.Result{UtteranceID: u.id, Text: text, Final: true, Start: u.start, End: ss.pos, Confidence: -1, Language: "en-US"}
	sum := 0.0
	for _, w := range words {
		sum += w.prob
		r.Words = append(r.Words, asr.Word{Text: w.text, Start: ss.frameTime(w.sf), End: ss.frameTime(w.ef + 1), Confidence: w.prob})
	}
	if len(words) > 0 {
		// the mean word posterior: ps_get_prob's sentence posterior is near 0 for any
		// utterance of more than a few words, right or wrong
		r.Confidence = sum / float64(len(words))
	}
	if len(r.Words) > 0 {
		r.Start, r.End = r.Words[0].Start, r.Words[len(r.Words)-1].End
	}
	ss.w.m.finals.Inc()
	return ss.s.emit(r)
}

// frameTime maps a decoder frame number to stream time.
func (ss *session) frameTime(frame int) time.Duration {
	samples := int64(frame)*samplesPerFrame - ss.fedBase
	return max(0, ss.posBase+time.Duration(samples)*time.Second/16000)
}

// flush drains what was queued before Close, pushes the resampler's tail and delivers the
// final of the utterance in progress.
func (ss *session) flush(started bool) error {
	for {
		select {
		case f := <-ss.s.in:
			if !started {
				if err := ss.begin(f); err != nil {
					return err
				}
				started = true
			}
			if err := ss.feed(f); err != nil {
				return err
			}
			continue
		default:
		}
		break
	}
	if !started {
		return nil
	}
	if ss.rs != nil {
		if _, err := ss.w.dec.process(ss.rs.Flush()); err != nil {
			return err
		}
	}
	if ss.u.speaking {
		return ss.final()
	}
	_, _, err := ss.w.dec.end()
	return err
}
