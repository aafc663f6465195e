// Package webrtcseattest is an agent page (or a supervisor's) made of a pion peer in the
// test process: it speaks the phone.* and monitor.* messages, sends a generated or
// recorded signal as its microphone and records what it hears, at 8 kHz.
package webrtcseattest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hraban/opus"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"lianxin/media"
)

// Signaller is the server side of the page's socket (a *webrtcseat.Session).
type Signaller interface {
	Message(ctx context.Context, typ string, msg json.RawMessage) error
	Close() error
}

// Options shape a page.
type Options struct {
	// Codec the page offers: "opus" (default) or "PCMU".
	Codec string
	// Mic returns the next 20 ms of microphone (160 samples at 8 kHz, or 320 at MicRate
	// 16000); nil sends silence.
	Mic func() []int16
	// MicRate is the microphone's rate for Opus: 8000 (default) or 16000 (wideband speech,
	// as a browser sends).
	MicRate int
	// AutoAnswer answers a ring at once.
	AutoAnswer bool
	// Receive only (a listening supervisor): the page sends no audio.
	RecvOnly bool
	// Deaf pages decode what they hear but keep none of it (benchmarks).
	Deaf bool
}

// Page is one browser page's phone.
type Page struct {
	opts Options
	sig  Signaller
	msgs chan msg

	mu    sync.Mutex
	call  string
	pc    *webrtc.PeerConnection
	pcID  string
	heard []int16
	last  map[string]json.RawMessage // the last message of each type, for tests
	state webrtc.PeerConnectionState

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type msg struct {
	typ  string
	data json.RawMessage
}

// New builds a page; Attach connects it to its socket's server side.
func New(opts Options) *Page {
	if opts.Codec == "" {
		opts.Codec = "opus"
	}
	p := &Page{opts: opts, msgs: make(chan msg, 256), last: map[string]json.RawMessage{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Deliver is the send function for the server side: it queues one message to the page.
func (p *Page) Deliver(typ string, data any) bool {
	b, err := json.Marshal(data)
	if err != nil {
		return false
	}
	select {
	case p.msgs <- msg{typ, b}:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// Attach starts the page on its socket.
func (p *Page) Attach(sig Signaller) {
	p.sig = sig
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.loop() }()
}

// Send sends one message from the page.
func (p *Page) Send(typ string, fields map[string]any) error {
	m := map[string]any{"type": typ}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return p.sig.Message(p.ctx, typ, b)
}

func (p *Page) loop() {
	for {
		select {
		case <-p.ctx.Done():
			return
		case m := <-p.msgs:
			p.handle(m)
		}
	}
}

func (p *Page) handle(m msg) {
	var d struct {
		Call      string                   `json:"call"`
		SDP       string                   `json:"sdp"`
		Candidate *webrtc.ICECandidateInit `json:"candidate"`
	}
	_ = json.Unmarshal(m.data, &d)
	p.mu.Lock()
	p.last[m.typ] = m.data
	pc := p.pc
	p.mu.Unlock()
	switch m.typ {
	case "phone.ring", "phone.resume":
		p.mu.Lock()
		p.call = d.Call
		p.mu.Unlock()
		if p.opts.AutoAnswer || m.typ == "phone.resume" {
			_ = p.Offer("phone.offer", map[string]any{"call": d.Call})
		}
	case "phone.answer", "monitor.answer":
		if pc != nil {
			_ = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: d.SDP})
		}
	case "phone.candidate", "monitor.candidate":
		if pc != nil && d.Candidate != nil {
			_ = pc.AddICECandidate(*d.Candidate)
		}
	}
}

// Last is the last message of type typ the page received, or nil.
func (p *Page) Last(typ string) json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[typ]
}

// Call is the id of the call ringing or up on the page.
func (p *Page) Call() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.call
}

// Offer opens a new peer connection and sends its offer as typ (phone.offer or
// monitor.start) with the extra fields.
func (p *Page) Offer(typ string, fields map[string]any) error {
	pc, codec, err := p.newConn()
	if err != nil {
		return err
	}
	id := rand.Text()[:10]
	ctyp := "phone.candidate"
	if typ == "monitor.start" {
		ctyp = "monitor.candidate"
	}
	// candidates wait for the offer to have gone, as a page's do
	cands := &candidates{send: func(ci webrtc.ICECandidateInit) {
		_ = p.Send(ctyp, map[string]any{"call": fields["call"], "pc": id, "candidate": ci})
	}}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			cands.add(c.ToJSON())
		}
	})
	if err := p.addAudio(pc, codec); err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	p.mu.Lock()
	old := p.pc
	p.pc, p.pcID = pc, id
	p.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	f := map[string]any{"pc": id, "sdp": offer.SDP}
	for k, v := range fields {
		f[k] = v
	}
	return cands.release(func() error { return p.Send(typ, f) })
}

// newConn is a peer connection offering the page's one codec, on loopback only.
func (p *Page) newConn() (*webrtc.PeerConnection, webrtc.RTPCodecCapability, error) {
	me := &webrtc.MediaEngine{}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	pt := webrtc.PayloadType(111)
	if strings.EqualFold(p.opts.Codec, "PCMU") {
		codec, pt = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, 0
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: codec, PayloadType: pt}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, codec, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, codec, err
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.mu.Lock()
		p.state = st
		p.mu.Unlock()
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.record(tr) })
	return pc, codec, nil
}

// addAudio adds the microphone (sent every 20 ms), or a receive-only transceiver.
func (p *Page) addAudio(pc *webrtc.PeerConnection, codec webrtc.RTPCodecCapability) error {
	if p.opts.RecvOnly {
		_, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		return err
	}
	tr, err := webrtc.NewTrackLocalStaticSample(codec, "audio", "page")
	if err != nil {
		return err
	}
	if _, err := pc.AddTrack(tr); err != nil {
		return err
	}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.speak(tr, codec.MimeType) }()
	return nil
}

// candidates holds a connection's candidates until its offer has been sent.
type candidates struct {
	mu      sync.Mutex
	pending []webrtc.ICECandidateInit
	open    bool
	send    func(webrtc.ICECandidateInit)
}

func (c *candidates) add(ci webrtc.ICECandidateInit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open {
		c.pending = append(c.pending, ci)
		return
	}
	c.send(ci)
}

// release runs sendOffer, then lets the candidates follow it.
func (c *candidates) release(sendOffer func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := sendOffer()
	c.open = true
	for _, ci := range c.pending {
		c.send(ci)
	}
	c.pending = nil
	return err
}

// Restart offers again on the current connection with new ICE credentials, as a page does
// when its network dropped (same pc id: the gateway restarts ICE on the same connection).
func (p *Page) Restart() error {
	p.mu.Lock()
	pc, id, call := p.pc, p.pcID, p.call
	p.mu.Unlock()
	if pc == nil {
		return errors.New("no connection to restart")
	}
	offer, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	return p.Send("phone.offer", map[string]any{"call": call, "pc": id, "sdp": offer.SDP})
}

// speak sends the microphone every 20 ms until the page closes.
func (p *Page) speak(tr *webrtc.TrackLocalStaticSample, mime string) {
	var enc *opus.Encoder
	rate := media.SampleRate
	if mime == webrtc.MimeTypeOpus {
		if p.opts.MicRate > 0 {
			rate = p.opts.MicRate
		}
		enc, _ = opus.NewEncoder(rate, 1, opus.AppVoIP)
	}
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	buf := make([]byte, 1500)
	silence := make([]int16, rate/50)
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		pcm := silence
		if p.opts.Mic != nil {
			pcm = p.opts.Mic()
		}
		var n int
		if enc != nil {
			n, _ = enc.Encode(pcm, buf)
		} else {
			n = media.PCMU().Encode(buf, pcm)
		}
		_ = tr.WriteSample(pmedia.Sample{Data: buf[:n], Duration: media.FrameDuration})
	}
}

// record keeps what the page hears, decoded to 8 kHz.
func (p *Page) record(tr *webrtc.TrackRemote) {
	var dec *opus.Decoder
	if tr.Codec().MimeType == webrtc.MimeTypeOpus {
		dec, _ = opus.NewDecoder(media.SampleRate, 1)
	}
	pcm := make([]int16, 960*6)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		var n int
		if dec != nil {
			n, _ = dec.Decode(pkt.Payload, pcm)
		} else {
			n = media.PCMU().Decode(pcm, pkt.Payload)
		}
		if p.opts.Deaf {
			continue
		}
		p.mu.Lock()
		p.heard = append(p.heard, pcm[:n]...)
		p.mu.Unlock()
	}
}

// Heard returns what the page has heard so far and forgets it.
func (p *Page) Heard() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.heard
	p.heard = nil
	return h
}

// Connected reports whether the page's current connection is up.
func (p *Page) Connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == webrtc.PeerConnectionStateConnected
}

// Close closes the peer connection and the socket (as a page reload does) and waits.
func (p *Page) Close() error {
	p.cancel()
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	var err error
	if pc != nil {
		err = pc.Close()
	}
	if p.sig != nil {
		err = errors.Join(err, p.sig.Close())
	}
	p.wg.Wait()
	return err
}
