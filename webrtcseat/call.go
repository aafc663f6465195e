package webrtcseat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"lianxin/callflow"
	"lianxin/media"
)

// dtmfPayloadType is the telephone-event type on the loopback hop to the flow.
const dtmfPayloadType = 101

// seatCall is one call on a browser phone: the loopback RTP socket towards the call flow,
// the page's current peer connection (replaced when the page reloads), and the
// supervisors listening. It implements callflow.SeatCall.
type seatCall struct {
	e      *Engine
	id     string
	seat   string
	from   string
	callID string // the flow's
	log    *slog.Logger
	codec  media.Codec // G.711 law on the loopback hop
	conn   *net.UDPConn
	out    *rtpOut
	dtmfQ  chan rune

	ctx       context.Context // ends, with a cause, when the agent hangs up or the page is lost
	cancelRaw context.CancelCauseFunc
	answered  chan struct{}
	answer    sync.Once

	mu      sync.Mutex
	session *Session // the page that holds the call
	peer    *peer
	muted   bool
	held    bool
	up      bool // answered
	grace   *time.Timer
	mons    map[*monitor]bool
	// whisper is mixed into what the page hears only; barge into what the caller hears
	whisper, barge *frameQueue
	// wide receives the agent's speech at 16 kHz for recognition (WidebandAgent); widePos
	// counts the samples it has been given, for the frames' offsets
	wide    media.FrameWriter
	widePos int64

	wg   sync.WaitGroup
	once sync.Once
}

var (
	_ callflow.SeatCall      = (*seatCall)(nil)
	_ callflow.WidebandAgent = (*seatCall)(nil)
)

// wideRate is the rate the agent's speech reaches recognition at: Opus decoded at 16 kHz
// (a G.711 page's 8 kHz is interpolated up, so a stream keeps one rate across a reload).
const wideRate = 16000

// AgentRate implements callflow.WidebandAgent.
func (c *seatCall) AgentRate() int { return wideRate }

// TapAgent implements callflow.WidebandAgent.
func (c *seatCall) TapAgent(w media.FrameWriter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wide = w
}

// pushWide hands one decoded 16 kHz frame of the agent to the recognition tap.
func (c *seatCall) pushWide(pcm []int16) {
	c.mu.Lock()
	w, pos := c.wide, c.widePos
	c.widePos += int64(len(pcm))
	c.mu.Unlock()
	if w != nil {
		_ = w.WriteFrame(media.Frame{Samples: pcm, Rate: wideRate, Offset: time.Duration(pos) * time.Second / wideRate})
	}
}

func newSeatCall(e *Engine, r callflow.Ring, s *Session) (*seatCall, error) {
	codec := media.PCMU()
	for _, name := range r.Codecs {
		if name == PCMA || name == PCMU {
			codec, _ = media.CodecByName(name) // one of the two the media package names
			break
		}
	}
	ip := r.Local.Addr()
	if !ip.IsValid() {
		return nil, errors.New("webrtcseat: ring without a local RTP address")
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("webrtcseat: loopback RTP: %w", err)
	}
	c := &seatCall{e: e, id: newID(), seat: r.Seat, from: r.CallerID, callID: r.CallID, codec: codec, conn: conn,
		dtmfQ: make(chan rune, 32), answered: make(chan struct{}), session: s, mons: map[*monitor]bool{}}
	c.log = e.log.With("seat", r.Seat, "webrtc_call", c.id)
	c.out = newRTPOut(conn, r.Local, codec)
	c.ctx, c.cancelRaw = context.WithCancelCause(context.Background())
	return c, nil
}

func newID() string { return rand.Text()[:16] }

func (c *seatCall) start() {
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.readFlow() }()
	go func() { defer c.wg.Done(); c.sendDTMF() }()
}

func (c *seatCall) ringData() ringData {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ringData{Call: c.id, From: c.from, Muted: c.muted, Held: c.held}
}

// Context ends when the agent hangs up or the page does not come back within Grace.
func (c *seatCall) Context() context.Context { return c.ctx }

// Remote is where the flow sends the seat's audio: this call's loopback socket, which
// takes no RTCP (the browser's own RTCP runs over its WebRTC connection).
func (c *seatCall) Remote() callflow.Media {
	addr, _ := netip.ParseAddrPort(c.conn.LocalAddr().String())
	return callflow.Media{Addr: addr, Codec: c.codec.Name, PayloadType: c.codec.PayloadType,
		DTMFType: dtmfPayloadType, Direction: media.SendRecv, RTCP: media.RTCPPeer{Mode: media.RTCPOff}}
}

// OnMediaChange is never called: the page's reconnections stay inside this package.
func (c *seatCall) OnMediaChange(func(callflow.Media)) {}

// Hangup ends the call from the flow's side; it is idempotent.
func (c *seatCall) Hangup(context.Context) error {
	c.close(errors.New("call ended"))
	return nil
}

// cancel ends the call from the page's side; the flow sees Context end. It takes no lock,
// so it may be called with c.mu held.
func (c *seatCall) cancel(err error) { c.cancelRaw(err) }

// close tears the call down and waits for its goroutines; reason goes to the page.
func (c *seatCall) close(reason error) {
	c.once.Do(func() {
		c.cancelRaw(reason)
		c.e.forget(c)
		c.mu.Lock()
		s, p, up := c.session, c.peer, c.up
		c.peer = nil
		if c.grace != nil {
			c.grace.Stop()
		}
		mons := make([]*monitor, 0, len(c.mons))
		for m := range c.mons {
			mons = append(mons, m)
		}
		c.mu.Unlock()
		typ := msgCancel
		if up {
			typ = msgEnded
		}
		if s != nil {
			s.send(typ, ringData{Call: c.id, Reason: reason.Error()})
		}
		for _, m := range mons {
			m.close()
		}
		if p != nil {
			p.close()
		}
		_ = c.conn.Close()
		close(c.dtmfQ)
		c.wg.Wait()
	})
}

// offer answers a page's offer: a new peer connection (first answer, or a reloaded page),
// or an ICE restart of the current one (same pc id).
func (c *seatCall) offer(s *Session, pcID, sdp string) error {
	if pcID == "" || sdp == "" {
		return errors.New("phone.offer needs pc and sdp")
	}
	c.mu.Lock()
	c.session = s
	cur := c.peer
	c.mu.Unlock()
	if cur != nil && cur.id == pcID {
		ans, err := cur.renegotiate(sdp)
		if err != nil {
			return err
		}
		c.e.m.restarts.Inc()
		s.send(msgAnswer, sdpData{Call: c.id, PC: pcID, SDP: ans})
		return nil
	}
	p, ans, err := c.e.newPeer(pcID, sdp, peerHooks{
		candidate: func(ci webrtc.ICECandidateInit) {
			c.sessionNow().send(msgCandidate, sdpData{Call: c.id, PC: pcID, Candidate: &ci})
		},
		state: func(p *peer, st webrtc.PeerConnectionState) { c.peerState(p, st) },
		track: c.readPage,
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	old := c.peer
	c.peer = p
	closed := c.ctx.Err() != nil
	c.mu.Unlock()
	if old != nil {
		c.e.m.restarts.Inc()
		old.close()
	}
	if closed {
		p.close()
		return context.Cause(c.ctx)
	}
	s.send(msgAnswer, sdpData{Call: c.id, PC: pcID, SDP: ans})
	p.answered()
	return nil
}

func (c *seatCall) sessionNow() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

func (c *seatCall) candidate(pcID string, ci *webrtc.ICECandidateInit) error {
	c.mu.Lock()
	p := c.peer
	c.mu.Unlock()
	if p == nil || p.id != pcID {
		return nil // a candidate of a connection already replaced
	}
	if ci == nil {
		return nil
	}
	return p.pc.AddICECandidate(*ci)
}

// peerState: connected answers a ringing call (or ends the wait for a lost page); a
// connection that fails leaves the caller in silence for Grace, for the page to restart.
func (c *seatCall) peerState(p *peer, st webrtc.PeerConnectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peer != p {
		return
	}
	switch st {
	case webrtc.PeerConnectionStateConnected:
		c.up = true
		if c.grace != nil {
			c.grace.Stop()
			c.grace = nil
		}
		c.answer.Do(func() { close(c.answered) })
	case webrtc.PeerConnectionStateFailed:
		c.e.m.iceFailed.Inc()
		if !c.up {
			c.cancel(ErrICEFailed) // the ring fails over to the next seat
			return
		}
		c.startGraceLocked()
	}
}

// pageGone: the socket of the page holding the call closed.
func (c *seatCall) pageGone(s *Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != s {
		return
	}
	if !c.up {
		c.cancel(ErrPageGone)
		return
	}
	c.startGraceLocked()
}

func (c *seatCall) startGraceLocked() {
	if c.grace != nil {
		return
	}
	c.log.Info("browser phone lost mid-call; waiting for it to come back", "grace", c.e.cfg.Grace)
	c.grace = time.AfterFunc(c.e.cfg.Grace, func() { c.cancel(ErrPhoneLost) })
}

// adopt hands the call to a page that just became the seat's phone: it rings there, or,
// once answered, the page offers again (a reload mid-call).
func (c *seatCall) adopt(s *Session) {
	c.mu.Lock()
	c.session = s
	up := c.up
	c.mu.Unlock()
	if up {
		s.send(msgResume, c.ringData())
	} else {
		s.send(msgRing, c.ringData())
	}
}

func (c *seatCall) setFlags(mute, hold *bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mute != nil {
		c.muted = *mute
	}
	if hold != nil {
		c.held = *hold
	}
}

func (c *seatCall) flags() (muted, held bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.muted, c.held
}

func (c *seatCall) dtmf(digits string) error {
	for _, d := range digits {
		if _, ok := media.DTMFCode(d); !ok {
			return fmt.Errorf("not a DTMF digit: %q", d)
		}
	}
	if c.ctx.Err() != nil {
		return context.Cause(c.ctx)
	}
	for _, d := range digits {
		select {
		case c.dtmfQ <- d:
		default:
			return errors.New("too many digits queued")
		}
	}
	return nil
}

// readFlow relays what the flow sends (the caller's voice) to the page, with a
// supervisor's whisper mixed in, and to the supervisors listening.
func (c *seatCall) readFlow() {
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	var h rtp.Header
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if from != c.out.dest {
			continue
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil || h.PayloadType != c.codec.PayloadType {
			continue // telephone-events and comfort noise are not relayed to the page
		}
		start := time.Now()
		k := c.codec.Decode(pcm, buf[hl:n])
		frame := pcm[:k]
		c.mu.Lock()
		p, held, w := c.peer, c.held, c.whisper
		mons := c.monitorsLocked()
		c.mu.Unlock()
		for _, m := range mons {
			m.caller.push(frame)
		}
		if w != nil {
			w.mixInto(frame)
		}
		if p != nil && !held {
			p.writePCM(frame)
			c.e.m.relay.Observe(time.Since(start).Seconds())
		}
	}
}

func (c *seatCall) monitorsLocked() []*monitor {
	if len(c.mons) == 0 {
		return nil
	}
	out := make([]*monitor, 0, len(c.mons))
	for m := range c.mons {
		out = append(out, m)
	}
	return out
}

// readPage relays the page's microphone to the flow (silence while muted or held) and to
// the supervisors listening. It runs on the goroutine pion starts for the track; the peer
// waits for it when it closes.
func (c *seatCall) readPage(p *peer, tr *webrtc.TrackRemote) {
	dec, err := newFrameCodec(tr.Codec().MimeType)
	if err != nil {
		c.log.Warn("page track", "err", err)
		return
	}
	pcm := make([]int16, 960*6) // 120 ms at 48 kHz: the longest Opus frame
	wide, err := newWideDecoder(tr.Codec().MimeType)
	if err != nil {
		c.log.Warn("page track: no wideband decoder", "err", err)
		return
	}
	pt := uint8(tr.PayloadType())
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if pkt.PayloadType != pt || len(pkt.Payload) == 0 {
			continue
		}
		start := time.Now()
		n, err := dec.decode(pkt.Payload, pcm)
		if err != nil || n == 0 {
			continue
		}
		frame := pcm[:n]
		muted, held := c.flags()
		if muted || held {
			clear(frame)
		}
		if w := wide.decode(pkt.Payload, frame); w != nil {
			if muted || held {
				clear(w)
			}
			c.pushWide(w)
		}
		c.mu.Lock()
		current, barge := c.peer == p, c.barge
		mons := c.monitorsLocked()
		c.mu.Unlock()
		if !current {
			continue
		}
		for _, m := range mons {
			m.agent.push(frame)
		}
		if barge != nil {
			barge.mixInto(frame)
		}
		c.out.audio(frame)
		c.e.m.relay.Observe(time.Since(start).Seconds())
	}
}

// sendDTMF plays queued digits to the flow as RFC 4733 events: 100 ms each, 60 ms apart.
func (c *seatCall) sendDTMF() {
	for d := range c.dtmfQ {
		code, _ := media.DTMFCode(d)
		ts := c.out.eventStart()
		t := time.NewTicker(media.FrameDuration)
		for i := 1; i <= 5; i++ {
			c.out.event(code, ts, uint16(i*media.FrameSamples), false, i == 1)
			<-t.C
		}
		for range 3 {
			c.out.event(code, ts, 5*media.FrameSamples, true, false)
		}
		<-t.C
		<-t.C
		<-t.C
		t.Stop()
	}
}
