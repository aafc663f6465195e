package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"lianxin/media"
	"lianxin/seat"
	"lianxin/sip"
)

// callInfo is what the rest of the gateway knows about one call.
type callInfo struct {
	ID        string
	SIPCallID string
	Line      string
	From      string
	Seat      string
	Offered   time.Time
	Answered  time.Time
	Ended     time.Time
	Recording string
	// CallerMedia and AgentMedia are the legs' negotiated media (for the store's leg rows).
	CallerMedia, AgentMedia sip.Media
	log                     *slog.Logger
}

// callObserver is told what happens to calls: the agent screens and the store.
// callOffered comes each time a seat starts ringing for the call (ci.Seat set).
type callObserver interface {
	seatChanged(c seat.Change)
	callOffered(ci *callInfo)
	callAnswered(ci *callInfo)
	callEnded(ci *callInfo, outcome string, cause error)
	dtmf(ci *callInfo, leg string, digit rune)
}

// callTap is the per-call hook that consumes both legs' audio while the call is bridged
// (live transcription). Caller and Agent must never block; Close ends the hook's work
// for the call and waits for it.
type callTap interface {
	Caller() media.FrameWriter
	Agent() media.FrameWriter
	Close() error
}

// tapFactory starts a callTap for an answered call.
type tapFactory func(ctx context.Context, ci *callInfo) callTap

var (
	errNoAnswer   = errors.New("seat did not answer in time")
	errInactive   = errors.New("no RTP from either side: dead call")
	errShutdown   = errors.New("gateway shutting down")
	errCallerGone = errors.New("caller left before a seat answered")
)

// handleCall owns one call from INVITE to hang-up.
func (a *App) handleCall(c *sip.InboundCall) {
	ci := &callInfo{ID: a.newCallID(), SIPCallID: c.CallID, Line: c.Number, From: c.From, Offered: a.now()}
	ci.log = a.log.With("call", ci.ID, "sip_call_id", c.CallID, "line", c.Number)
	a.metrics.offered.WithLabelValues(ci.Line).Inc()

	ctx, cancel := context.WithCancelCause(c.Context())
	defer cancel(errors.New("call over"))
	stop := context.AfterFunc(a.hardStop, func() { cancel(errShutdown) })
	defer stop()

	callerLeg, err := a.newLeg("caller", c.Remote())
	if err != nil {
		ci.log.Error("caller leg", "err", err)
		_ = c.Reject(503, "Service Unavailable (no media port)")
		a.end(ci, "failed", err)
		return
	}
	defer callerLeg.Close()

	oc, agentLeg, err := a.connectSeat(ctx, c, ci, callerLeg)
	if err != nil {
		outcome := "failed"
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errShutdown) {
			outcome = "abandoned"
		} else {
			code, reason := queueFailure(err)
			_ = c.Reject(code, reason)
		}
		a.end(ci, outcome, err)
		return
	}
	defer agentLeg.Close()
	defer a.acd.Release(ci.Seat)
	defer oc.Hangup(context.Background())

	if err := c.Answer(callerLeg.LocalAddr()); err != nil {
		ci.log.Warn("answering the caller failed", "err", err)
		a.end(ci, "abandoned", err)
		return
	}
	ci.Answered = a.now()
	ci.CallerMedia, ci.AgentMedia = c.Remote(), oc.Remote()
	a.metrics.answered.WithLabelValues(ci.Line).Inc()
	a.observer.callAnswered(ci)
	cause := a.bridge(ctx, cancel, c, oc, ci, callerLeg, agentLeg)
	_ = c.Hangup(context.Background())
	a.metrics.talk.Observe(a.now().Sub(ci.Answered).Seconds())
	a.end(ci, "completed", cause)
}

// connectSeat queues the caller (hearing the hold announcement as early media) until a
// seat answers; a seat that does not answer in time gives way to the next.
func (a *App) connectSeat(ctx context.Context, c *sip.InboundCall, ci *callInfo, callerLeg *media.Leg) (*sip.OutboundCall, *media.Leg, error) {
	if err := c.Progress(callerLeg.LocalAddr()); err != nil {
		return nil, nil, fmt.Errorf("early media: %w", err)
	}
	playCtx, stopPlay := context.WithCancel(ctx)
	var play sync.WaitGroup
	play.Add(1)
	go func() { defer play.Done(); _ = callerLeg.Play(playCtx, a.holdMusic, true) }()
	defer play.Wait()
	defer stopPlay()

	exclude := map[string]bool{}
	for {
		id, err := a.acd.Acquire(ctx, ci.Line, exclude)
		if err != nil {
			return nil, nil, err
		}
		ci.Seat = id
		ci.log = a.log.With("call", ci.ID, "sip_call_id", c.CallID, "line", c.Number, "seat", id)
		a.observer.callOffered(ci)
		agentLeg, err := a.newLeg("agent", sip.Media{})
		if err != nil {
			a.acd.NoAnswer(id)
			return nil, nil, err
		}
		dialCtx, cancel := context.WithTimeoutCause(ctx, a.cfg.ACD.RingTimeout, errNoAnswer)
		oc, err := a.sip.Dial(dialCtx, sip.DialOptions{Seat: id, Local: agentLeg.LocalAddr(),
			Codecs: seatCodecs(c.Codecs()), CallerID: c.From})
		cancel()
		if err == nil {
			a.acd.Answered(id)
			if err := setRemote(agentLeg, oc.Remote()); err != nil {
				ci.log.Warn("seat media", "err", err)
			}
			return oc, agentLeg, nil
		}
		agentLeg.Close()
		a.acd.NoAnswer(id)
		exclude[id] = true
		if ctx.Err() != nil {
			return nil, nil, context.Cause(ctx)
		}
		ci.log.Info("seat did not take the call; trying the next", "err", err)
	}
}

// bridge relays and taps the call until either side hangs up or the media dies.
func (a *App) bridge(ctx context.Context, cancel context.CancelCauseFunc, c *sip.InboundCall, oc *sip.OutboundCall,
	ci *callInfo, callerLeg, agentLeg *media.Leg) error {
	rec, err := a.newRecorder(ci)
	if err != nil {
		ci.log.Error("recording", "err", err)
	}
	callerTap := media.NewFanout("caller", media.FanoutOptions{Metrics: a.media})
	agentTap := media.NewFanout("agent", media.FanoutOptions{Metrics: a.media})
	if rec != nil {
		callerTap.Add(rec.Caller(), 50)
		agentTap.Add(rec.Agent(), 50)
	}
	var tap callTap
	if a.taps != nil {
		tap = a.taps(ctx, ci)
		callerTap.Add(tap.Caller(), 100)
		agentTap.Add(tap.Agent(), 100)
	}
	br := media.NewBridge(callerLeg, agentLeg, media.BridgeOptions{
		TapA: callerTap, TapB: agentTap, Clock: a.clock, Logger: ci.log,
		InactivityTimeout: a.cfg.Media.InactivityTimeout, Jitter: a.cfg.Media.Jitter,
		OnInactive: func() { cancel(errInactive) },
		OnDTMF:     func(leg string, d rune, _ time.Duration) { a.observer.dtmf(ci, leg, d) },
	})
	c.OnMediaChange(func(m sip.Media) { applyMediaChange(ci.log, callerLeg, m) })
	oc.OnMediaChange(func(m sip.Media) { applyMediaChange(ci.log, agentLeg, m) })
	if err := br.Start(); err != nil {
		cancel(err)
	}

	select {
	case <-ctx.Done():
	case <-oc.Context().Done():
		cancel(context.Cause(oc.Context()))
	}
	cause := context.Cause(ctx)
	ci.log.Info("call ending", "cause", cause)
	_ = br.Close()
	_ = callerTap.Close()
	_ = agentTap.Close()
	if rec != nil {
		if err := rec.Close(); err != nil {
			ci.log.Error("finalising the recording", "err", err)
		}
	}
	if tap != nil {
		_ = tap.Close()
	}
	return cause
}

func (a *App) newRecorder(ci *callInfo) (*media.Recorder, error) {
	if a.cfg.Media.Record != nil && !*a.cfg.Media.Record {
		return nil, nil
	}
	dir := filepath.Join(a.cfg.DataDir, "recordings", ci.Offered.Format("2006-01-02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ci.Recording = filepath.Join(dir, ci.ID+".wav")
	return media.NewRecorder(ci.Recording, media.RecorderOptions{})
}

func (a *App) newLeg(kind string, remote sip.Media) (*media.Leg, error) {
	conn, err := a.ports.Listen(a.mediaIP)
	if err != nil {
		return nil, err
	}
	l := media.NewLeg(conn, media.LegOptions{Name: kind, Kind: kind, Metrics: a.media, Logger: a.log})
	if remote.Addr.IsValid() {
		if err := setRemote(l, remote); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func setRemote(l *media.Leg, m sip.Media) error {
	codec, err := media.CodecByName(m.Codec)
	if err != nil {
		return err
	}
	codec.PayloadType = m.PayloadType
	return l.SetRemote(m.Addr, codec, m.DTMFType)
}

// seatCodecs is what the seat is offered: the caller's laws first (no transcoding when the
// seat takes one), then the rest the gateway can transcode to.
func seatCodecs(caller []string) []string {
	out := append([]string(nil), caller...)
	for _, c := range []string{sip.PCMU, sip.PCMA} {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// applyMediaChange honours a re-INVITE: a peer that holds (sendonly/inactive) is not sent
// audio until it resumes; a moved peer gets audio at its new address.
func applyMediaChange(log *slog.Logger, l *media.Leg, m sip.Media) {
	if err := setRemote(l, m); err != nil {
		log.Warn("re-INVITE media", "err", err)
	}
	d, err := media.ParseDirection(string(m.Direction))
	if err != nil {
		d = media.SendRecv
	}
	l.SetDirection(d.Reverse())
}

// queueFailure maps an ACD or dial failure to the status the caller gets.
func queueFailure(err error) (int, string) {
	switch {
	case errors.Is(err, seat.ErrQueueTimeout):
		return 480, "Temporarily Unavailable (no agent free)"
	case errors.Is(err, seat.ErrQueueFull):
		return 486, "Busy Here (queue full)"
	case errors.Is(err, seat.ErrNoSeats):
		return 404, "Not Found (no seats serve this number)"
	case errors.Is(err, seat.ErrClosed), errors.Is(err, errShutdown):
		return 503, "Service Unavailable"
	}
	return 500, "Server Internal Error"
}

func (a *App) end(ci *callInfo, outcome string, cause error) {
	ci.Ended = a.now()
	switch outcome {
	case "abandoned":
		a.metrics.abandoned.WithLabelValues(ci.Line).Inc()
	case "failed":
		a.metrics.failed.WithLabelValues(ci.Line).Inc()
	}
	ci.log.Info("call ended", "outcome", outcome, "cause", cause)
	a.observer.callEnded(ci, outcome, cause)
}
