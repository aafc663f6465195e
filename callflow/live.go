package callflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"lianxin/asr"
	"lianxin/media"
)

// liveCall is the live transcription of one call: one recogniser stream per leg, results
// to the sink. A leg whose stream could not start (the engine is at its stream limit,
// or down), or whose stream a new caller took over, is transcribed from the recording
// after the call, from where its live transcription stopped, and flagged delayed; so are
// the spans an outage of the engine lost mid-call (gaps.go).
type liveCall struct {
	f       *Flow
	ci      *Info
	log     *slog.Logger
	sink    TranscriptSink
	engine  string
	caller  *legStream
	agent   *legStream
	readers sync.WaitGroup
	once    sync.Once
}

// legStream adapts a recogniser stream to the fan-out. Streams copy what they queue (the
// asr contract), so the fan-out's reused buffers pass straight through. The stream can be
// taken away while frames flow (pre-emption), hence the lock.
type legStream struct {
	channel string
	mu      sync.Mutex
	st      asr.Stream
	err     error
	pos     time.Duration // call time at the end of the last frame written
	cut     bool          // the stream was taken away at cutAt
	cutAt   time.Duration
	gaps    []span // spans the live stream lost (gaps.go)
	lastID  int    // the highest utterance id used on the leg
}

func (l *legStream) WriteFrame(f media.Frame) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st == nil {
		return nil
	}
	if f.Rate > 0 {
		l.pos = f.Offset + time.Duration(len(f.Samples))*time.Second/time.Duration(f.Rate)
	}
	return l.st.Write(f)
}

// detach takes the stream away from the leg and remembers where: from then on the leg
// writes to nothing, and its recording from cutAt on is transcribed after the call.
func (l *legStream) detach() asr.Stream {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	if st != nil {
		l.st, l.cut, l.cutAt = nil, true, l.pos
	}
	return st
}

// stream is the leg's live stream (nil if it never had one or lost it) and, when it lost
// it, where.
func (l *legStream) stream() (st asr.Stream, cut bool, cutAt time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st, l.cut, l.cutAt
}

func (l *legStream) String() string { return "asr(" + l.channel + ")" }

// startLive opens the streams of an answered call, caller leg first: the caller's words
// matter most to dispatch. A caller leg that finds the engine at its stream limit takes
// over another call's agent leg; the agent leg is opened only from what is left.
// agentRate is the rate of the agent's frames: the leg's 8 kHz, or a wideband seat's own.
func (f *Flow) startLive(ctx context.Context, ci *Info, agentRate int) *liveCall {
	lc := &liveCall{f: f, ci: ci, log: ci.log, sink: f.deps.Sink}
	eng, err := f.deps.ASR.ForLine(ci.Line)
	if err == nil {
		lc.engine = eng.Name()
	}
	lang := f.cfg.Language(ci.Line)
	lc.caller = lc.open(ctx, eng, err, "caller", lang, media.SampleRate)
	lc.agent = lc.open(ctx, eng, err, "agent", lang, agentRate)
	if st, _, _ := lc.agent.stream(); st != nil {
		f.agents.add(lc)
	}
	return lc
}

func (lc *liveCall) open(ctx context.Context, eng asr.Engine, engErr error, channel, lang string, rate int) *legStream {
	ls := &legStream{channel: channel, err: engErr, lastID: -1}
	if engErr == nil {
		cfg := asr.StreamConfig{Language: lang, SampleRate: rate, Partials: true, Channel: channel, Hotwords: lc.f.cfg.Hotwords}
		ls.st, ls.err = eng.NewStream(context.WithoutCancel(ctx), cfg)
		if channel == "caller" && errors.Is(ls.err, asr.ErrStreamLimit) && lc.f.agents.takeOver(lc.engine, lc.ci) {
			ls.st, ls.err = eng.NewStream(context.WithoutCancel(ctx), cfg)
		}
	}
	if ls.err != nil {
		lc.log.Warn("no live transcription for this leg; it will be transcribed after the call", "channel", channel, "err", ls.err)
		lc.sink.StreamFailed(lc.ci, channel, ls.err)
		return ls
	}
	lc.readers.Add(1)
	go func() {
		defer lc.readers.Done()
		for r := range ls.st.Results() {
			ls.saw(r)
			lc.sink.Result(lc.ci, channel, r, false)
		}
	}()
	return ls
}

// Close flushes both streams (their last finals arrive before it returns) and queues the
// legs that had no live stream, or lost it, for transcription from the recording.
func (lc *liveCall) Close() error {
	lc.once.Do(func() {
		lc.f.agents.remove(lc)
		legs := []*legStream{lc.caller, lc.agent}
		for _, l := range legs {
			if st, _, _ := l.stream(); st != nil {
				_ = st.Close()
			}
		}
		lc.readers.Wait() // also waits for a stream a pre-empting caller is closing
		for ch, l := range legs {
			st, cut, at := l.stream()
			switch {
			case st != nil: // live to the end
			case lc.ci.Recording != "":
				lc.f.transcribeLater(lc.ci, l, ch, at)
			case cut:
				lc.sink.StreamFailed(lc.ci, l.channel, errors.New("live stream handed to a new caller, and recording is off"))
			}
			if gaps := l.lostSpans(); len(gaps) > 0 && lc.ci.Recording != "" {
				lc.f.retranscribeGaps(lc.ci, l, ch, gaps)
			}
		}
	})
	return nil
}

// transcribeLater runs a leg the live path missed, from call time from on, through the
// recogniser from the call's recording, on a goroutine the Flow owns, so nothing said on
// the call is lost.
func (f *Flow) transcribeLater(ci *Info, l *legStream, ch int, from time.Duration) {
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		ctx, cancel := context.WithTimeout(f.stop, 30*time.Minute)
		defer cancel()
		var err error
		for attempt := 0; attempt < 60; attempt++ {
			err = f.transcribeRecording(ctx, ci, l, ch, from)
			if !errors.Is(err, asr.ErrStreamLimit) {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(f.cfg.DelayedRetry):
			}
		}
		if err != nil {
			ci.log.Error("delayed transcription failed", "channel", l.channel, "err", err)
			f.deps.Sink.StreamFailed(ci, l.channel, fmt.Errorf("delayed transcription: %w", err))
		}
	}()
}

func (f *Flow) transcribeRecording(ctx context.Context, ci *Info, l *legStream, ch int, from time.Duration) error {
	eng, err := f.deps.ASR.ForLine(ci.Line)
	if err != nil {
		return err
	}
	mono, cleanup, err := extractSpan(ci.Recording, ch, from, 0)
	if err != nil {
		return err
	}
	defer cleanup()
	return asr.TranscribeFile(ctx, eng, mono, asr.StreamConfig{Language: f.cfg.Language(ci.Line), Channel: l.channel,
		Hotwords: f.cfg.Hotwords}, func(r asr.Result) {
		if r.Final {
			// ids after the live ones: the stored transcript keys lines by id
			r = shifted(r, from)
			r.UtteranceID = l.delayedID()
			f.deps.Sink.Result(ci, l.channel, r, true)
		}
	})
}

// shifted moves a result's times by d: the times of a recording cut at d back to call time.
func shifted(r asr.Result, d time.Duration) asr.Result {
	r.Start += d
	r.End += d
	words := make([]asr.Word, len(r.Words))
	for i, w := range r.Words {
		w.Start += d
		w.End += d
		words[i] = w
	}
	r.Words = words
	return r
}

// joinFinals is a channel's transcript so far: its finals in order, then the partial.
func joinFinals(finals []string, partial string) string {
	parts := append(append([]string(nil), finals...), partial)
	return strings.TrimSpace(strings.Join(parts, " "))
}

// extractSpan writes one channel of a stereo recording, from time from to time to (0: to
// the end), to a temporary mono WAV.
func extractSpan(path string, ch int, from, to time.Duration) (string, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return "", nil, fmt.Errorf("recording %s: %w", path, err)
	}
	n := int(d.NumChans)
	if n < 1 || ch >= n {
		return "", nil, fmt.Errorf("recording %s: no channel %d", path, ch)
	}
	skip := int(from * time.Duration(d.SampleRate) / time.Second)
	end := len(buf.Data)
	if to > 0 {
		end = min(end, int(to*time.Duration(d.SampleRate)/time.Second)*n)
	}
	mono := make([]int, 0, len(buf.Data)/n)
	for i := ch + skip*n; i < end; i += n {
		mono = append(mono, buf.Data[i])
	}
	out, err := os.CreateTemp("", "lianxin-leg-*.wav")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(out.Name()) }
	enc := wav.NewEncoder(out, int(d.SampleRate), 16, 1, 1)
	err = enc.Write(&audio.IntBuffer{Data: mono, Format: &audio.Format{NumChannels: 1, SampleRate: int(d.SampleRate)}, SourceBitDepth: 16})
	if err == nil {
		err = enc.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return out.Name(), cleanup, nil
}
