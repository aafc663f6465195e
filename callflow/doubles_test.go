package callflow

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-audio/wav"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"lianxin/media"
)

// rtpPeer is a phone's media end: it sends a PCMU tone every 20 ms to where it is told
// (nothing when hz is 0) and keeps the audio it receives. It takes RTCP multiplexed on
// its RTP port, where it ignores it. With lossEvery n, every nth packet is lost on the way.
type rtpPeer struct {
	conn      *net.UDPConn
	hz        float64
	lossEvery int
	// keys, when set, make it an SRTP phone: the leg's keys seen from the phone's side.
	keys     media.SRTPKeys
	enc, dec *srtp.Context
	mu       sync.Mutex
	got      []int16
	to       netip.AddrPort
	stop     chan struct{}
	wg       sync.WaitGroup
}

func newRTPPeer(t *testing.T, hz float64) *rtpPeer { return newRTPPeerWith(t, hz, nil) }

func newRTPPeerWith(t *testing.T, hz float64, setup func(*rtpPeer)) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c, hz: hz, stop: make(chan struct{})}
	if setup != nil {
		setup(p)
	}
	p.wg.Add(2)
	go p.receive()
	go p.send()
	t.Cleanup(p.close)
	return p
}

func (p *rtpPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *rtpPeer) media() Media {
	return Media{Addr: p.addr(), Codec: "PCMU", PayloadType: 0, SRTP: p.keys, RTCP: media.RTCPPeer{Mode: media.RTCPMux}}
}

// newSRTPPeer is newRTPPeer speaking SRTP with fresh keys.
func newSRTPPeer(t *testing.T, hz float64) *rtpPeer {
	t.Helper()
	k := media.SRTPKeys{Profile: media.SRTPAES128SHA1_80, Local: make([]byte, 30), Remote: make([]byte, 30)}
	_, _ = rand.Read(k.Local)
	_, _ = rand.Read(k.Remote)
	enc, err := srtp.CreateContext(k.Remote[:16], k.Remote[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(t, err)
	dec, err := srtp.CreateContext(k.Local[:16], k.Local[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(t, err)
	return newRTPPeerWith(t, hz, func(p *rtpPeer) { p.keys, p.enc, p.dec = k, enc, dec })
}

func (p *rtpPeer) sendTo(a netip.AddrPort) {
	p.mu.Lock()
	p.to = a
	p.mu.Unlock()
}

// lose makes every nth packet from now on go missing.
func (p *rtpPeer) lose(n int) {
	p.mu.Lock()
	p.lossEvery = n
	p.mu.Unlock()
}

func (p *rtpPeer) received() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.got...)
}

func (p *rtpPeer) receive() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		if p.dec != nil {
			if b, err = p.dec.DecryptRTP(b, b, nil); err != nil {
				continue
			}
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(b) != nil || pkt.PayloadType != 0 {
			continue
		}
		p.mu.Lock()
		for _, b := range pkt.Payload {
			p.got = append(p.got, g711.DecodeUlawFrame(b))
		}
		p.mu.Unlock()
	}
}

func (p *rtpPeer) send() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var n int
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		to, lossEvery := p.to, p.lossEvery
		p.mu.Unlock()
		if !to.IsValid() || p.hz == 0 { // a silent peer only listens
			continue
		}
		payload := make([]byte, 160)
		for i := range payload {
			payload[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*p.hz*float64(n)/8000)))
			n++
		}
		seq++
		if lossEvery > 0 && int(seq)%lossEvery == 0 {
			continue
		}
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq,
			Timestamp: uint32(n), SSRC: uint32(p.hz)}, Payload: payload}).Marshal()
		if p.enc != nil {
			b, _ = p.enc.EncryptRTP(nil, b, nil)
		}
		_, _ = p.conn.WriteToUDPAddrPort(b, to)
	}
}

func (p *rtpPeer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}

// fakeCaller is a caller's dialog whose media is an rtpPeer.
type fakeCaller struct {
	ctx    context.Context
	hangUp context.CancelCauseFunc
	peer   *rtpPeer

	mu       sync.Mutex
	rejected Rejection
	answered bool
	early    bool
	byed     bool
}

func newFakeCaller(t *testing.T, hz float64) *fakeCaller {
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(errors.New("test over")) })
	return &fakeCaller{ctx: ctx, hangUp: cancel, peer: newRTPPeer(t, hz)}
}

func (c *fakeCaller) Context() context.Context  { return c.ctx }
func (c *fakeCaller) Remote() Media             { return c.peer.media() }
func (c *fakeCaller) Codecs() []string          { return []string{"PCMU"} }
func (c *fakeCaller) OnMediaChange(func(Media)) {}

func (c *fakeCaller) Progress(local netip.AddrPort) error {
	c.mu.Lock()
	c.early = true
	c.mu.Unlock()
	c.peer.sendTo(local)
	return nil
}

func (c *fakeCaller) Answer(_ context.Context, local netip.AddrPort) error {
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	c.peer.sendTo(local)
	return nil
}

func (c *fakeCaller) Reject(r Rejection) error {
	c.mu.Lock()
	c.rejected = r
	c.mu.Unlock()
	return nil
}

func (c *fakeCaller) Hangup(context.Context) error {
	c.mu.Lock()
	c.byed = true
	c.mu.Unlock()
	return nil
}

func (c *fakeCaller) state() (early, answered, byed bool, rejected Rejection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.early, c.answered, c.byed, c.rejected
}

// fakePhones answers for the seats in answer, each with an rtpPeer sending its tone;
// other seats ring until the ring times out.
type fakePhones struct {
	t      *testing.T
	answer map[string]float64
	// srtp makes the phones answer with SRTP.
	srtp bool
	// refuse are seats whose phones refuse every call at once.
	refuse map[string]bool

	mu    sync.Mutex
	rung  []string
	at    []time.Time
	calls map[string]*fakeSeatCall
}

type fakeSeatCall struct {
	ctx    context.Context
	hangUp context.CancelCauseFunc
	peer   *rtpPeer
	mu     sync.Mutex
	byed   bool
}

func (p *fakePhones) Ring(ctx context.Context, r Ring) (SeatCall, error) {
	p.mu.Lock()
	p.rung = append(p.rung, r.Seat)
	p.at = append(p.at, time.Now())
	hz, ok := p.answer[r.Seat]
	p.mu.Unlock()
	if p.refuse[r.Seat] {
		return nil, errors.New("488 Not Acceptable Here")
	}
	if !ok {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
	sctx, cancel := context.WithCancelCause(context.Background())
	p.t.Cleanup(func() { cancel(errors.New("test over")) })
	peer := newRTPPeer
	if p.srtp {
		peer = newSRTPPeer
	}
	sc := &fakeSeatCall{ctx: sctx, hangUp: cancel, peer: peer(p.t, hz)}
	sc.peer.sendTo(r.Local)
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]*fakeSeatCall{}
	}
	p.calls[r.Seat] = sc
	p.mu.Unlock()
	return sc, nil
}

func (p *fakePhones) rungSeats() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.rung...)
}

// rungAt is when each ring started.
func (p *fakePhones) rungAt() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.at...)
}

func (p *fakePhones) call(seat string) *fakeSeatCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[seat]
}

func (s *fakeSeatCall) Context() context.Context  { return s.ctx }
func (s *fakeSeatCall) Remote() Media             { return s.peer.media() }
func (s *fakeSeatCall) OnMediaChange(func(Media)) {}
func (s *fakeSeatCall) Hangup(context.Context) error {
	s.mu.Lock()
	s.byed = true
	s.mu.Unlock()
	return nil
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu      sync.Mutex
	offered []string
	answer  int
	ended   chan ended
	quality chan CallQuality
}

type ended struct {
	info    Info
	outcome Outcome
	cause   error
}

func newObserver() *recorder {
	return &recorder{ended: make(chan ended, 8), quality: make(chan CallQuality, 64)}
}

func (r *recorder) CallArrived(*Info) {}
func (r *recorder) CallOffered(ci *Info) {
	r.mu.Lock()
	r.offered = append(r.offered, ci.Seat)
	r.mu.Unlock()
}
func (r *recorder) CallAnswered(*Info) { r.mu.Lock(); r.answer++; r.mu.Unlock() }
func (r *recorder) CallEnded(ci *Info, o Outcome, cause error) {
	r.ended <- ended{info: *ci, outcome: o, cause: cause}
}
func (r *recorder) DTMF(*Info, string, rune) {}
func (r *recorder) CallQuality(_ *Info, q CallQuality) {
	select {
	case r.quality <- q:
	default:
	}
}

func (r *recorder) waitEnded(t *testing.T) ended {
	t.Helper()
	select {
	case e := <-r.ended:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("the call never ended")
		return ended{}
	}
}

// toneLevel is the Goertzel power of hz in x relative to x's total power (1 for a pure
// tone, near 0 when absent).
func toneLevel(x []int16, hz float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		f := float64(v)
		s1, s2 = f+coeff*s1-s2, s1
		total += f * f
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if total == 0 {
		return 0
	}
	return 2 * power / (float64(len(x)) * total)
}

// channels reads a stereo recording's two channels.
func channels(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf, err := wav.NewDecoder(f).FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(buf.Data); i += 2 {
		left = append(left, int16(buf.Data[i]))
		right = append(right, int16(buf.Data[i+1]))
	}
	return left, right
}
