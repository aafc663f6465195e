package callflow

import (
	"context"
	"errors"
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

// watchQueued ends the call when a caller who has been sending RTP goes quiet for the
// inactivity timeout while queued (phones in silence suppression still send comfort
// noise), so a caller who vanished without a CANCEL never ties up an agent.
func (c *Call) watchQueued(ctx context.Context) {
	if c.f.cfg.InactivityTimeout <= 0 {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-c.callerLeg.Heard():
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
