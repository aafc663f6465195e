package callflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// ErrCallerSilent ends a queued call whose caller stopped sending RTP: the phone or its
// network went away without a CANCEL, and the call must not reach an agent.
var ErrCallerSilent = errors.New("caller's media stopped while queued")

// earlyMedia plays the hold sound to a queued caller without letting the gateway be aimed
// at someone else. An INVITE's SDP can name any address; the sound goes there only for a
// short grace (phones start their RTP a moment after the 183), and after that only once
// the caller's own RTP has arrived and latched the leg, which then sends to that source.
// Graces toward one address are capped, so a flood of INVITEs naming one victim gets
// nothing but what real callers there asked for.
func (c *Call) earlyMedia(ctx context.Context, log *slog.Logger) {
	leg, hold := c.callerLeg, c.f.cfg.HoldMusic
	if release, ok := c.f.early.take(c.caller.Remote().Addr.Addr()); ok {
		grace, cancel := context.WithCancel(ctx)
		t := time.AfterFunc(c.f.cfg.EarlyMediaGrace, func() {
			select {
			case <-leg.Heard():
			default:
				cancel() // nothing from the caller: stop sending to an unproven address
			}
		})
		_ = leg.Play(grace, hold, true)
		t.Stop()
		cancel()
		release()
		if ctx.Err() != nil {
			return
		}
		log.Info("no RTP from the caller's address; early media waits for it")
	}
	select {
	case <-ctx.Done():
		return
	case <-leg.Heard():
	}
	_ = leg.Play(ctx, hold, true)
}

// watchQueued ends the call when a queued caller has gone without a CANCEL, so that no
// agent is ever rung for them: one who has been sending RTP and goes quiet for the
// inactivity timeout (phones in silence suppression still send comfort noise), or one who
// never sent any and whose phone leaves two probes in a row unanswered.
func (c *Call) watchQueued(ctx context.Context, log *slog.Logger) {
	if !c.probeUntilHeard(ctx, log) || c.f.cfg.InactivityTimeout <= 0 {
		return
	}
	t := time.NewTicker(c.f.cfg.InactivityTimeout / 10)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(c.callerLeg.Stats().LastPacket) > c.f.cfg.InactivityTimeout {
			c.cancel(ErrCallerSilent)
			return
		}
	}
}

// probeUntilHeard asks the phone of a caller who sends no RTP, every probe interval,
// whether it is still there, waiting half an interval for each answer (long enough for
// SIP's retransmissions over UDP). It returns true once the caller's RTP arrives, and
// false when the call is over or it ended the call. One lost probe is forgiven: a probe
// and all its retransmissions lost to a network blip must not drop a waiting caller.
func (c *Call) probeUntilHeard(ctx context.Context, log *slog.Logger) bool {
	p, ok := c.caller.(Prober)
	every := c.f.cfg.ProbeInterval
	if !ok || every < 0 {
		select {
		case <-ctx.Done():
			return false
		case <-c.callerLeg.Heard():
			return true
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return false
		case <-c.callerLeg.Heard():
			return true
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every/2)
		err := p.Probe(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return false
		case err == nil:
			misses = 0
		case errors.Is(err, ErrCallerGone):
			log.Info("the caller's phone no longer knows the call; it leaves the queue", "err", err)
			c.cancel(err)
			return false
		default:
			if misses++; misses < 2 {
				log.Info("the caller's phone did not answer a probe", "err", err)
				continue
			}
			log.Info("the caller's phone did not answer two probes; it leaves the queue", "err", err)
			c.cancel(fmt.Errorf("%w: %w", ErrCallerGone, err))
			return false
		}
	}
}

// earlyLimits counts the early-media streams sent to each address before it has sent
// anything back.
type earlyLimits struct {
	max int
	mu  sync.Mutex
	n   map[netip.Addr]int
}

// take reserves a grace toward addr; release gives it back.
func (l *earlyLimits) take(addr netip.Addr) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[addr] >= l.max {
		return nil, false
	}
	l.n[addr]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n[addr]--; l.n[addr] == 0 {
			delete(l.n, addr)
		}
	}, true
}
