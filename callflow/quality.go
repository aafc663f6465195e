package callflow

import (
	"context"
	"math"
	"sync"
	"time"

	"lianxin/desk"
	"lianxin/media"
	"lianxin/store"
)

// QualityThresholds say when a leg's audio is poor: an E-model MOS below MinMOS or more
// than MaxLoss of its packets lost, in either direction, over one rating interval.
type QualityThresholds struct {
	MinMOS  float64 // default 3.5
	MaxLoss float64 // a fraction, default 0.05
}

func (t QualityThresholds) withDefaults() QualityThresholds {
	if t.MinMOS <= 0 {
		t.MinMOS = 3.5
	}
	if t.MaxLoss <= 0 {
		t.MaxLoss = 0.05
	}
	return t
}

// minRated is the fewest packets a direction must carry in an interval to be rated: a
// loss or two among a handful says nothing.
const minRated = 25

// repeatPoor is how often a call that stays poor is reported again, so a wallboard
// opened meanwhile learns of it.
const repeatPoor = time.Minute

// LegRating is one leg's quality over the last interval and the verdict on it.
type LegRating struct {
	media.Quality
	// MOS is the interval's E-model estimate; Loss its worse direction's loss (0–1).
	MOS, Loss float64
	// Rated is false when too little audio passed to say; Poor is the verdict.
	Rated, Poor bool
}

// CallQuality is the verdict on a bridged call's audio over the last interval. The agent's
// leg is the seat's own network and phone: SeatPoor flags the seat as well as the call.
type CallQuality struct {
	Caller, Agent LegRating
	Poor          bool
	SeatPoor      bool
}

// rate judges one leg's interval.
func (t QualityThresholds) rate(q media.Quality) LegRating {
	r := LegRating{Quality: q}
	if q.Expected >= minRated {
		r.Rated, r.Loss = true, q.LossFraction()
	}
	if q.PeerExpected >= minRated {
		r.Rated, r.Loss = true, max(r.Loss, q.PeerLossFraction())
	}
	if !r.Rated {
		return r
	}
	r.MOS = media.MOS(q.RTT, max(q.Jitter, q.PeerJitter), r.Loss)
	r.Poor = r.MOS < t.MinMOS || r.Loss > t.MaxLoss
	return r
}

// watchQuality rates both legs every RTCP interval while the call is bridged and tells
// the observer when the verdict changes; the returned function stops it and waits.
func (c *Call) watchQuality() (stop func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.f.cfg.RTCPInterval)
		defer t.Stop()
		prevCaller, prevAgent := c.callerLeg.Quality(), c.agentLeg.Quality()
		var last CallQuality
		var told time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			curCaller, curAgent := c.callerLeg.Quality(), c.agentLeg.Quality()
			th := c.f.cfg.PoorQuality
			q := CallQuality{Caller: th.rate(curCaller.Since(prevCaller)), Agent: th.rate(curAgent.Since(prevAgent))}
			prevCaller, prevAgent = curCaller, curAgent
			q.Poor, q.SeatPoor = q.Caller.Poor || q.Agent.Poor, q.Agent.Poor
			now := c.f.deps.Now()
			if q.Poor != last.Poor || q.SeatPoor != last.SeatPoor || (q.Poor && now.Sub(told) >= repeatPoor) {
				c.f.deps.Observer.CallQuality(&c.Info, q)
				last, told = q, now
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// CallQuality publishes the verdict on a call's audio to the wallboard.
func (e *Screens) CallQuality(ci *Info, q CallQuality) {
	e.publish(desk.Event{Type: desk.TypeQuality, CallID: ci.ID, Seat: ci.Seat, Data: desk.CallQualityData{
		Poor: q.Poor, SeatPoor: q.SeatPoor, Legs: []desk.LegQualityData{q.Caller.data("caller"), q.Agent.data("agent")}}})
}

func (r LegRating) data(leg string) desk.LegQualityData {
	d := desk.LegQualityData{Leg: leg, Rated: r.Rated, Poor: r.Poor, MOS: round2(r.MOS), Loss: round4(r.Loss),
		JitterMS: ms(max(r.Jitter, r.PeerJitter))}
	if r.RTTSamples > 0 {
		rtt := ms(r.RTT)
		d.RTTMS = &rtt
	}
	return d
}

// legQuality is a leg's quality over the whole call as the store keeps it; nil when it
// carried nothing to rate.
func legQuality(q media.Quality) *store.LegQuality {
	if !q.Measured() {
		return nil
	}
	l := &store.LegQuality{PacketsLost: q.Lost, Loss: round4(q.LossFraction()), JitterMS: ms(q.Jitter), MOS: round2(q.MOS())}
	if q.PeerReports > 0 {
		lost, loss, jitter := q.PeerLost, round4(q.PeerLossFraction()), ms(q.PeerJitter)
		l.PeerPacketsLost, l.PeerLoss, l.PeerJitterMS = &lost, &loss, &jitter
	}
	if q.RTTSamples > 0 {
		rtt := ms(q.RTT)
		l.RTTMS = &rtt
	}
	return l
}

// ms is d in milliseconds to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
