package webrtcseat

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"lianxin/media"
)

// peer is one RTCPeerConnection with a page: one audio track each way.
type peer struct {
	e     *Engine
	id    string // the page's name for its connection
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	enc   frameCodec
	buf   []byte

	mu     sync.Mutex
	closed bool
	// pending holds candidates gathered before the owner sent the answer: a page cannot
	// add a candidate before it has the answer
	pending []webrtc.ICECandidateInit
	sent    bool
	onCand  func(webrtc.ICECandidateInit)
	wg      sync.WaitGroup // the track readers pion started
	once    sync.Once
}

// peerHooks are what a peer's owner is told.
type peerHooks struct {
	candidate func(webrtc.ICECandidateInit)
	state     func(*peer, webrtc.PeerConnectionState)
	track     func(*peer, *webrtc.TrackRemote)
}

// newPeer answers a page's offer with a new peer connection sending audio in the first
// configured codec the offer has.
func (e *Engine) newPeer(id, offer string, hooks peerHooks) (*peer, string, error) {
	mime, err := e.chooseCodec(offer)
	if err != nil {
		return nil, "", err
	}
	api := e.apis[strings.ToLower(mime)]
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: e.iceServers()})
	if err != nil {
		return nil, "", fmt.Errorf("webrtcseat: %w", err)
	}
	enc, err := newFrameCodec(mime)
	if err != nil {
		_ = pc.Close()
		return nil, "", err
	}
	capab, _ := capability(strings.TrimPrefix(strings.ToLower(mime), "audio/")) // chosen from the configured ones
	p := &peer{e: e, id: id, pc: pc, enc: enc, buf: make([]byte, 1500), onCand: hooks.candidate}
	e.m.peers.Inc()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil && hooks.candidate != nil {
			p.candidate(c.ToJSON())
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if hooks.state != nil {
			hooks.state(p, st)
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if hooks.track == nil || !p.enter() {
			return
		}
		defer p.wg.Done()
		hooks.track(p, tr)
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.close()
		return nil, "", fmt.Errorf("webrtcseat: offer: %w", err)
	}
	if p.track, err = webrtc.NewTrackLocalStaticSample(capab.RTPCodecCapability, "audio", "lianxin"); err != nil {
		p.close()
		return nil, "", fmt.Errorf("webrtcseat: %w", err)
	}
	if _, err := pc.AddTrack(p.track); err != nil {
		p.close()
		return nil, "", fmt.Errorf("webrtcseat: %w", err)
	}
	ans, err := p.answer()
	if err != nil {
		p.close()
		return nil, "", err
	}
	return p, ans, nil
}

// chooseCodec is the first configured codec the offer's audio section carries.
func (e *Engine) chooseCodec(offer string) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("webrtcseat: offer: %w", err)
	}
	have := map[string]bool{}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			if _, enc, ok := strings.Cut(a.Value, " "); ok {
				name, _, _ := strings.Cut(enc, "/")
				have[strings.ToLower(name)] = true
			}
		}
	}
	for _, name := range e.cfg.Codecs {
		if have[strings.ToLower(name)] {
			p, err := capability(name)
			if err != nil {
				return "", err
			}
			return p.MimeType, nil
		}
	}
	return "", errors.New("webrtcseat: the offer has no audio codec in common (opus, PCMU, PCMA)")
}

func (p *peer) answer() (string, error) {
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtcseat: answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("webrtcseat: answer: %w", err)
	}
	return p.pc.LocalDescription().SDP, nil
}

func (p *peer) candidate(ci webrtc.ICECandidateInit) {
	p.mu.Lock()
	if !p.sent {
		p.pending = append(p.pending, ci)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.onCand(ci)
}

// answered says the owner has sent the answer: candidates may follow it now.
func (p *peer) answered() {
	p.mu.Lock()
	pending := p.pending
	p.pending, p.sent = nil, true
	p.mu.Unlock()
	for _, ci := range pending {
		p.onCand(ci)
	}
}

// renegotiate answers a new offer on the same connection: the page's ICE restart.
func (p *peer) renegotiate(offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("webrtcseat: re-offer: %w", err)
	}
	return p.answer()
}

// writePCM sends 8 kHz PCM to the page in 20 ms frames. One goroutine writes to a peer.
func (p *peer) writePCM(pcm []int16) {
	for len(pcm) >= media.FrameSamples {
		n, err := p.enc.encode(pcm[:media.FrameSamples], p.buf)
		pcm = pcm[media.FrameSamples:]
		if err != nil || n == 0 {
			continue
		}
		_ = p.track.WriteSample(pmedia.Sample{Data: p.buf[:n], Duration: media.FrameDuration})
	}
}

// enter admits one more track reader unless the peer is closing.
func (p *peer) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	return true
}

// close ends the connection and waits for its track readers; it is idempotent.
func (p *peer) close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		_ = p.pc.Close()
		p.wg.Wait()
		p.e.m.peers.Dec()
	})
}

// frameTick is the mixer's clock for supervisors' streams.
const frameTick = 20 * time.Millisecond
