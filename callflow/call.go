package callflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"lianxin/media"
)

// Call is one call while its handler runs: the caller's dialog, the seat that took it,
// both media legs and the call's context, whose cause says why it ended.
type Call struct {
	Info
	f      *Flow
	caller Caller
	ctx    context.Context
	cancel context.CancelCauseFunc

	callerLeg, agentLeg *media.Leg
	seat                SeatCall
	seatOnce            sync.Once
}

func (f *Flow) newCall(in Inbound) *Call {
	c := &Call{f: f, caller: in.Caller, Info: Info{ID: f.newCallID(), SIPCallID: in.SIPCallID, Line: in.Line,
		From: in.From, Offered: f.deps.Now()}}
	c.log = f.deps.Logger.With("call", c.ID, "sip_call_id", in.SIPCallID, "line", in.Line)
	f.m.offered.WithLabelValues(c.Line).Inc()
	return c
}

// run takes the call from arrival to its end.
func (c *Call) run() {
	ctx, cancel := context.WithCancelCause(c.caller.Context())
	c.ctx, c.cancel = ctx, cancel
	defer cancel(errors.New("call over"))
	stop := context.AfterFunc(c.f.stop, func() { cancel(ErrShutdown) })
	defer stop()

	var err error
	if c.callerLeg, err = c.f.newLeg("caller", c.caller.Remote()); err != nil {
		c.log.Error("caller leg", "err", err)
		_ = c.caller.Reject(RejectUnavailable)
		c.end(Failed, fmt.Errorf("%w: %w", errNoPort, err))
		return
	}
	defer c.callerLeg.Close()

	if err := c.connectSeat(); err != nil {
		outcome := Failed
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), ErrShutdown) {
			outcome = Abandoned
		} else {
			_ = c.caller.Reject(rejectionFor(err))
		}
		c.end(outcome, err)
		return
	}
	defer c.releaseSeat()

	actx, cancelAnswer := context.WithTimeout(ctx, c.f.cfg.AnswerTimeout)
	err = c.caller.Answer(actx, c.callerLeg.LocalAddr())
	cancelAnswer()
	if err != nil {
		c.log.Warn("answering the caller failed; the seat is freed", "err", err)
		c.end(Abandoned, err)
		return
	}
	c.Answered = c.f.deps.Now()
	c.CallerMedia, c.AgentMedia = c.caller.Remote(), c.seat.Remote()
	c.f.m.answered.WithLabelValues(c.Line).Inc()
	c.f.deps.Observer.CallAnswered(&c.Info)
	cause, seatLeft := c.bridge()
	c.f.m.talk.Observe(c.f.deps.Now().Sub(c.Answered).Seconds())
	if seatLeft && c.f.cfg.Survey(c.Line) {
		// The agent is free for the next call while the caller answers.
		c.releaseSeat()
		sctx, cancel := context.WithCancelCause(c.caller.Context())
		stopSurvey := context.AfterFunc(c.f.stop, func() { cancel(ErrShutdown) })
		c.Survey = c.survey(sctx)
		stopSurvey()
		cancel(errors.New("survey over"))
	}
	_ = c.caller.Hangup(context.Background())
	c.end(Completed, cause)
}

// releaseSeat hangs up the seat's side, hands the seat back to the queue and frees its
// media port; it runs once, whichever comes first of the call's end or its survey.
func (c *Call) releaseSeat() {
	c.seatOnce.Do(func() {
		_ = c.seat.Hangup(context.Background())
		c.f.deps.Queue.Release(c.Seat)
		_ = c.agentLeg.Close()
	})
}

// connectSeat queues the caller (hearing the hold sound as early media) until a seat
// answers; a seat that does not answer in time gives way to the next.
func (c *Call) connectSeat() error {
	if err := c.caller.Progress(c.callerLeg.LocalAddr()); err != nil {
		return fmt.Errorf("early media: %w", err)
	}
	queued, leave := context.WithCancel(c.ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	// the call's logger as it is now: ring replaces c.log with one naming the seat
	log := c.log
	go func() { defer wg.Done(); c.earlyMedia(queued, log) }()
	go func() { defer wg.Done(); c.watchQueued(queued, log) }()
	defer wg.Wait()
	defer leave()

	exclude := map[string]bool{}
	refused := map[string]time.Time{}
	for {
		id, err := c.f.deps.Queue.Acquire(c.ctx, c.Line, exclude)
		if err != nil {
			return err
		}
		if again, err := c.tooSoon(id, refused); err != nil {
			return err
		} else if again {
			continue
		}
		start := c.f.deps.Now()
		if err := c.ring(id); err == nil {
			return nil
		} else if c.ctx.Err() != nil {
			return context.Cause(c.ctx)
		} else {
			c.log.Info("seat did not take the call; trying the next", "err", err)
		}
		exclude[id] = true
		if now := c.f.deps.Now(); now.Sub(start) < c.f.cfg.RingTimeout {
			refused[id] = now
		}
	}
}

// tooSoon hands back seat id, and waits, when it refused this call less than a ring
// timeout ago: a seat that refuses at once (busy, or a phone without the SRTP its policy
// requires) and is the only one free would otherwise be offered the call again hundreds
// of times a second. Other seats are rung at once all the same.
func (c *Call) tooSoon(id string, refused map[string]time.Time) (bool, error) {
	at, ok := refused[id]
	wait := c.f.cfg.RingTimeout - c.f.deps.Now().Sub(at)
	if !ok || wait <= 0 {
		return false, nil
	}
	c.f.deps.Queue.NoAnswer(id)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return false, context.Cause(c.ctx)
	case <-t.C:
		return true, nil
	}
}

// ring offers the call to one seat; on success the call holds the seat and its leg.
func (c *Call) ring(id string) error {
	q := c.f.deps.Queue
	c.Seat = id
	c.log = c.f.deps.Logger.With("call", c.ID, "sip_call_id", c.SIPCallID, "line", c.Line, "seat", id)
	c.f.deps.Observer.CallOffered(&c.Info)
	leg, err := c.f.newLeg("agent", Media{})
	if err != nil {
		q.NoAnswer(id)
		return err
	}
	ctx, cancel := context.WithTimeoutCause(c.ctx, c.f.cfg.RingTimeout, ErrNoAnswer)
	sc, err := c.f.deps.Phones.Ring(ctx, Ring{CallID: c.ID, Seat: id, Local: leg.LocalAddr(), Codecs: seatCodecs(c.caller.Codecs(), c.f.cfg.G722),
		CallerID: c.From})
	cancel()
	if err != nil {
		leg.Close()
		q.NoAnswer(id)
		return err
	}
	q.Answered(id)
	if err := setRemote(leg, sc.Remote()); err != nil {
		c.log.Warn("seat media", "err", err)
	}
	c.agentLeg, c.seat = leg, sc
	return nil
}

// bridge relays, records and transcribes the call until a side hangs up or the media
// dies, and returns why it ended and whether the seat hung up first.
func (c *Call) bridge() (cause error, seatLeft bool) {
	rec, err := c.newRecorder()
	if err != nil {
		c.log.Error("recording", "err", err)
		c.f.deps.Health("recording", err)
	}
	callerTap := media.NewFanout("caller", media.FanoutOptions{Metrics: c.f.deps.Metrics})
	agentTap := media.NewFanout("agent", media.FanoutOptions{Metrics: c.f.deps.Metrics})
	if rec != nil {
		callerTap.Add(c.reported(rec.Caller()), 50)
		agentTap.Add(c.reported(rec.Agent()), 50)
	}
	var live *liveCall
	wide, _ := c.seat.(WidebandAgent)
	if wide == nil && c.agentLeg.Codec().AudioRate() > media.SampleRate {
		wide = legWideband{c.agentLeg} // a G.722 desk phone
	}
	var wideTap *media.Fanout
	if c.f.deps.ASR != nil {
		agentRate := media.SampleRate
		if wide != nil {
			agentRate = wide.AgentRate()
		}
		live = c.f.startLive(c.ctx, &c.Info, agentRate)
		callerTap.Add(live.caller, 100)
		if wide != nil {
			// the seat's own decoder pushes on its goroutine: a fan-out keeps a slow
			// recogniser from ever holding it up, as on the leg's tap
			wideTap = media.NewFanout("agent-wideband", media.FanoutOptions{Metrics: c.f.deps.Metrics})
			wideTap.Add(live.agent, 100)
			wide.TapAgent(wideTap)
		} else {
			agentTap.Add(live.agent, 100)
		}
	}
	br := media.NewBridge(c.callerLeg, c.agentLeg, media.BridgeOptions{
		TapA: callerTap, TapB: agentTap, Clock: c.f.clock, Logger: c.log,
		InactivityTimeout: c.f.cfg.InactivityTimeout, Jitter: c.f.cfg.Jitter,
		OnInactive: func() { c.cancel(ErrInactive) },
		OnDTMF:     func(leg string, d rune, _ time.Duration) { c.f.deps.Observer.DTMF(&c.Info, leg, d) },
	})
	c.caller.OnMediaChange(func(m Media) { c.mediaChanged(c.callerLeg, m) })
	c.seat.OnMediaChange(func(m Media) { c.mediaChanged(c.agentLeg, m) })
	if err := br.Start(); err != nil {
		c.cancel(err)
	}
	stopWatch := c.watchQuality()

	select {
	case <-c.ctx.Done():
	case <-c.seat.Context().Done():
		seatLeft = true
		c.cancel(context.Cause(c.seat.Context()))
	}
	cause = context.Cause(c.ctx)
	c.log.Info("call ending", "cause", cause)
	stopWatch()
	_ = br.Close()
	c.CallerQuality, c.AgentQuality = c.callerLeg.Quality(), c.agentLeg.Quality()
	_ = callerTap.Close()
	_ = agentTap.Close()
	if rec != nil {
		if err := rec.Close(); err != nil {
			c.log.Error("finalising the recording", "err", err)
			c.f.deps.Health("recording", err)
		} else {
			c.f.deps.Health("recording", nil)
		}
	}
	if wideTap != nil {
		wide.TapAgent(nil)
		_ = wideTap.Close()
	}
	if live != nil {
		_ = live.Close()
	}
	return cause, seatLeft
}

// reported passes frames to a recording channel and reports its first failure at once:
// a full disk cuts the recording, and the supervisor must know then, not at hang-up.
func (c *Call) reported(w media.FrameWriter) media.FrameWriter {
	return &reportedWriter{FrameWriter: w, report: func(err error) {
		c.log.Error("recording failed; the call goes on unrecorded", "err", err)
		c.f.deps.Health("recording", err)
	}}
}

type reportedWriter struct {
	media.FrameWriter
	once   sync.Once
	report func(error)
}

func (r *reportedWriter) WriteFrame(f media.Frame) error {
	err := r.FrameWriter.WriteFrame(f)
	if err != nil {
		r.once.Do(func() { r.report(err) })
	}
	return err
}

func (c *Call) newRecorder() (*media.Recorder, error) {
	if c.f.cfg.RecordDir == "" {
		return nil, nil
	}
	dir := filepath.Join(c.f.cfg.RecordDir, c.Offered.Format("2006-01-02"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c.Recording = filepath.Join(dir, c.ID+".wav")
	return media.NewRecorder(c.Recording, media.RecorderOptions{})
}

// mediaChanged honours a re-INVITE: a peer that holds (sendonly/inactive) is not sent
// audio until it resumes; a moved peer gets audio at its new address.
func (c *Call) mediaChanged(l *media.Leg, m Media) {
	if err := setRemote(l, m); err != nil {
		c.log.Warn("re-INVITE media", "err", err)
	}
	l.SetDirection(m.Direction.Reverse())
}

func (c *Call) end(o Outcome, cause error) {
	c.Ended = c.f.deps.Now()
	switch o {
	case Abandoned:
		c.f.m.abandoned.WithLabelValues(c.Line).Inc()
	case Failed:
		c.f.m.failed.WithLabelValues(c.Line).Inc()
	}
	c.log.Info("call ended", "outcome", o, "cause", cause)
	c.f.deps.Observer.CallEnded(&c.Info, o, cause)
}

func (f *Flow) newLeg(kind string, remote Media) (*media.Leg, error) {
	conn, rtcp, err := f.cfg.Ports.ListenPair(f.cfg.MediaIP)
	if err != nil {
		return nil, err
	}
	l := media.NewLeg(conn, media.LegOptions{Name: kind, Kind: kind, Metrics: f.deps.Metrics, Logger: f.deps.Logger,
		RTCP: media.RTCPOptions{Conn: rtcp, Interval: f.cfg.RTCPInterval}})
	if remote.Addr.IsValid() {
		if err := setRemote(l, remote); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func setRemote(l *media.Leg, m Media) error {
	codec, err := media.CodecByName(m.Codec)
	if err != nil {
		return err
	}
	codec.PayloadType = m.PayloadType
	// the keys before the address: until SetRemote the leg takes no packet, so none is
	// ever taken as plain that should have been authenticated
	if err := l.SetSRTP(m.SRTP); err != nil {
		return err
	}
	l.SetRTCPPeer(m.RTCP)
	return l.SetRemote(m.Addr, codec, m.DTMFType)
}

// seatCodecs is what the seat is offered: G.722 first when wideband is on (the agent
// reaches the recogniser at 16 kHz), then the caller's laws (no transcoding when the seat
// takes one), then the rest the gateway can transcode to.
func seatCodecs(caller []string, g722 bool) []string {
	var out []string
	if g722 {
		out = append(out, media.G722().Name)
	}
	out = append(out, caller...)
	for _, c := range []string{"PCMU", "PCMA"} {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
