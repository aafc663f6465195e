package webrtcseat

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"lianxin/media"
)

// Monitor modes.
const (
	ModeListen  = "listen"  // both sides mixed, to the supervisor only
	ModeWhisper = "whisper" // listen, and the supervisor's microphone to the agent only
	ModeBarge   = "barge"   // listen, and the supervisor's microphone to both sides (强插)
)

// monitor is a supervisor's listen or whisper on one call. Its mixer sends both sides to
// the supervisor; in whisper mode the supervisor's audio goes into the call's whisper
// queue, which only the page-bound direction reads: it never reaches the caller.
type monitor struct {
	e      *Engine
	c      *seatCall
	s      *Session
	id     string
	mode   string
	p      *peer
	caller *frameQueue
	agent  *frameQueue
	// whisper is the supervisor's audio on its way to the agent (whisper and barge);
	// barge its way to the caller (barge only)
	whisper, barge *frameQueue

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// startMonitor answers a supervisor's offer to listen to (or whisper on) a seat's call.
func (e *Engine) startMonitor(s *Session, m message) error {
	if m.Mode != ModeListen && m.Mode != ModeWhisper && m.Mode != ModeBarge {
		return fmt.Errorf("monitor.start: mode must be %q, %q or %q", ModeListen, ModeWhisper, ModeBarge)
	}
	if m.PC == "" || m.SDP == "" || m.Seat == "" {
		return errors.New("monitor.start needs seat, pc and sdp")
	}
	c, err := e.call(m.Seat, "")
	if err != nil {
		return fmt.Errorf("%s has no call to listen to", m.Seat)
	}
	mon := &monitor{e: e, c: c, s: s, id: m.PC, mode: m.Mode, caller: newFrameQueue(10), agent: newFrameQueue(10),
		stop: make(chan struct{})}
	if m.Mode != ModeListen {
		mon.whisper = newFrameQueue(10)
	}
	if m.Mode == ModeBarge {
		mon.barge = newFrameQueue(10)
	}
	p, ans, err := e.newPeer(m.PC, m.SDP, peerHooks{
		candidate: func(ci webrtc.ICECandidateInit) { s.send(msgMonCandidate, sdpData{ID: m.PC, PC: m.PC, Candidate: &ci}) },
		state: func(_ *peer, st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateFailed {
				e.m.iceFailed.Inc()
				// not on pion's callback, which closing the connection would wait for
				e.bg.Go(mon.close)
			}
		},
		track: mon.readSupervisor,
	})
	if err != nil {
		return err
	}
	mon.p = p
	e.mu.Lock()
	if old := e.mons[m.PC]; old != nil || e.closed {
		e.mu.Unlock()
		p.close()
		return errors.New("monitor already running")
	}
	e.mons[m.PC] = mon
	e.mu.Unlock()
	c.mu.Lock()
	closed := c.ctx.Err() != nil
	c.mons[mon] = true
	if mon.whisper != nil {
		c.whisper = mon.whisper
	}
	if mon.barge != nil {
		c.barge = mon.barge
	}
	c.mu.Unlock()
	mon.wg.Add(1)
	go func() { defer mon.wg.Done(); mon.mix() }()
	if closed {
		mon.close()
		return errors.New("the call ended")
	}
	s.send(msgMonAnswer, sdpData{ID: m.PC, PC: m.PC, SDP: ans})
	p.answered()
	e.opts.OnMonitor(MonitorEvent{CallID: c.callID, Supervisor: s.user, Seat: c.seat, Mode: m.Mode, Started: true, At: e.opts.Now()})
	return nil
}

func (e *Engine) monitorByPC(s *Session, pc string) *monitor {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.mons[pc]; m != nil && m.s == s {
		return m
	}
	return nil
}

// mix sends both sides, summed, to the supervisor every 20 ms.
func (m *monitor) mix() {
	t := time.NewTicker(frameTick)
	defer t.Stop()
	frame := make([]int16, media.FrameSamples)
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		clear(frame)
		if f, ok := m.caller.pop(); ok {
			mix(frame, f)
		}
		if f, ok := m.agent.pop(); ok {
			mix(frame, f)
		}
		m.p.writePCM(frame)
	}
}

// readSupervisor takes the supervisor's microphone: in whisper mode into the agent's ear,
// in barge mode into both sides'; in listen mode it is dropped (a listening page sends
// nothing anyway).
func (m *monitor) readSupervisor(_ *peer, tr *webrtc.TrackRemote) {
	dec, err := newFrameCodec(tr.Codec().MimeType)
	if err != nil {
		return
	}
	pcm := make([]int16, 960*6)
	pt := uint8(tr.PayloadType())
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if m.whisper == nil || pkt.PayloadType != pt {
			continue
		}
		if n, err := dec.decode(pkt.Payload, pcm); err == nil && n > 0 {
			m.whisper.push(pcm[:n])
			if m.barge != nil {
				m.barge.push(pcm[:n])
			}
		}
	}
}

// close stops the monitor, tells the supervisor's page and the audit; idempotent.
func (m *monitor) close() {
	m.once.Do(func() {
		m.e.mu.Lock()
		if m.e.mons[m.id] == m {
			delete(m.e.mons, m.id)
		}
		m.e.mu.Unlock()
		m.c.mu.Lock()
		delete(m.c.mons, m)
		if m.whisper != nil && m.c.whisper == m.whisper {
			m.c.whisper = nil
		}
		if m.barge != nil && m.c.barge == m.barge {
			m.c.barge = nil
		}
		m.c.mu.Unlock()
		close(m.stop)
		m.wg.Wait()
		if m.p != nil {
			m.p.close()
		}
		m.s.send(msgMonEnded, sdpData{ID: m.id, PC: m.id})
		m.e.opts.OnMonitor(MonitorEvent{CallID: m.c.callID, Supervisor: m.s.user, Seat: m.c.seat, Mode: m.mode, At: m.e.opts.Now()})
	})
}
