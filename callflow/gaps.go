package callflow

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"lianxin/asr"
)

// span is a stretch of a leg on the call's clock.
type span struct{ from, to time.Duration }

// gapWait bounds how long a leg's lost spans wait for the engine to come back.
const gapWait = 30 * time.Minute

// saw notes what a live result tells of the leg: the utterance ids the live stream used
// (delayed results take ids after them, or they would overwrite live lines in the stored
// transcript) and the spans the resilience layer marked as lost.
func (l *legStream) saw(r asr.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastID = max(l.lastID, r.UtteranceID)
	if r.Gap && r.End > r.Start {
		l.gaps = append(l.gaps, span{r.Start, r.End})
	}
}

// lostSpans are the leg's gaps, merged where they touch (an outage is marked in pieces
// while it lasts), in time order.
func (l *legStream) lostSpans() []span {
	l.mu.Lock()
	gaps := append([]span(nil), l.gaps...)
	l.mu.Unlock()
	sort.Slice(gaps, func(i, j int) bool { return gaps[i].from < gaps[j].from })
	var out []span
	for _, g := range gaps {
		if n := len(out); n > 0 && g.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, g.to)
			continue
		}
		out = append(out, g)
	}
	return out
}

// delayedID is a fresh utterance id for a result transcribed after the call.
func (l *legStream) delayedID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastID++
	return l.lastID
}

// retranscribeGaps transcribes, after the call, the spans of a leg that its live
// transcription lost (the engine was down for a while mid-call, then came back), from the
// call's recording once the engine takes a stream again. Each span's finals are
// published as delayed, in time order, as the other delayed path does; a span still
// failing after gapWait is reported.
func (f *Flow) retranscribeGaps(ci *Info, l *legStream, ch int, gaps []span) {
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		ctx, cancel := context.WithTimeout(f.stop, gapWait)
		defer cancel()
		for _, g := range gaps {
			rs, err := f.transcribeSpanWhenUp(ctx, ci, l.channel, ch, g)
			if err != nil {
				if f.stop.Err() == nil {
					ci.log.Error("re-transcribing a lost span failed", "channel", l.channel, "from", g.from, "to", g.to, "err", err)
					f.deps.Sink.StreamFailed(ci, l.channel, fmt.Errorf("re-transcribing %v–%v from the recording: %w", g.from, g.to, err))
				}
				continue
			}
			for _, r := range rs {
				r.UtteranceID = l.delayedID()
				f.deps.Sink.Result(ci, l.channel, r, true)
			}
		}
	}()
}

// errStillLost is a re-transcription that met the outage again (its results held a gap).
var errStillLost = errors.New("the engine lost part of the span again")

// transcribeSpanWhenUp transcribes one span, trying again every DelayedRetry while the
// engine is down, refuses the stream, or loses part of the span again. It returns the
// span's finals on the call's clock, in time order.
func (f *Flow) transcribeSpanWhenUp(ctx context.Context, ci *Info, channel string, ch int, g span) ([]asr.Result, error) {
	for attempt := 0; ; attempt++ {
		rs, err := f.transcribeSpan(ctx, ci, channel, ch, g)
		if err == nil {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
			return rs, nil
		}
		if attempt == 0 && f.stop.Err() == nil {
			ci.log.Info("a lost span waits for the engine", "channel", channel, "from", g.from, "to", g.to, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited for the engine: %w)", err, context.Cause(ctx))
		case <-time.After(f.cfg.DelayedRetry):
		}
	}
}

func (f *Flow) transcribeSpan(ctx context.Context, ci *Info, channel string, ch int, g span) ([]asr.Result, error) {
	eng, err := f.deps.ASR.ForLine(ci.Line)
	if err != nil {
		return nil, err
	}
	mono, cleanup, err := extractSpan(ci.Recording, ch, g.from, g.to)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var rs []asr.Result
	lost := false
	err = asr.TranscribeFile(ctx, eng, mono, asr.StreamConfig{Language: f.cfg.Language(ci.Line), Channel: channel,
		Hotwords: f.cfg.Hotwords}, func(r asr.Result) {
		switch {
		case r.Gap:
			lost = true
		case r.Final && r.Text != "":
			rs = append(rs, shifted(r, g.from))
		}
	})
	if err == nil && lost {
		err = errStillLost
	}
	return rs, err
}
