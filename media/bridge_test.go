package media

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// bridged is two test peers, their two legs and a started bridge between them:
// peer A ⇄ leg a ⇄ bridge ⇄ leg b ⇄ peer B, all on 127.0.0.1.
type bridged struct {
	pa, pb *peer
	a, b   *Leg
	br     *Bridge
	reg    *prometheus.Registry
	m      *Metrics
}

type bridgeSetup struct {
	codecA, codecB Codec
	dtmfA, dtmfB   uint8
	opts           BridgeOptions
}

func newBridged(t *testing.T, s bridgeSetup) *bridged {
	t.Helper()
	if s.codecA.Name == "" {
		s.codecA = PCMU()
	}
	if s.codecB.Name == "" {
		s.codecB = PCMU()
	}
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	x := &bridged{pa: newPeer(t), pb: newPeer(t), reg: reg, m: m}
	x.a = newLoopbackLeg(t, LegOptions{Name: "caller", Kind: "caller", Metrics: m})
	x.b = newLoopbackLeg(t, LegOptions{Name: "agent", Kind: "agent", Metrics: m})
	require.NoError(t, x.a.SetRemote(x.pa.addr(), s.codecA, s.dtmfA))
	require.NoError(t, x.b.SetRemote(x.pb.addr(), s.codecB, s.dtmfB))
	x.br = NewBridge(x.a, x.b, s.opts)
	require.NoError(t, x.br.Start())
	t.Cleanup(func() { _ = x.br.Close() })
	return x
}

// recvAudio collects n relayed packets at pb and decodes them with c.
func recvAudio(t *testing.T, p *peer, c Codec, n int) ([]int16, []recvPacket) {
	t.Helper()
	var pcm []int16
	var pkts []recvPacket
	for range n {
		r := p.recv()
		require.Equal(t, c.PayloadType, r.pt)
		dec := make([]int16, len(r.payload))
		c.Decode(dec, r.payload)
		pcm = append(pcm, dec...)
		pkts = append(pkts, r)
	}
	return pcm, pkts
}

func TestBridgeRelaysSpeechBothWays(t *testing.T) {
	x := newBridged(t, bridgeSetup{})
	speech := loadSpeech(t)[:FrameSamples*100]
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), speech)
	got, pkts := recvAudio(t, x.pb, PCMU(), 100)
	require.GreaterOrEqual(t, correlation(speech, got, 160), 0.9)

	// The far end sees one stream: the gateway's SSRC and consecutive numbering.
	for i := 1; i < len(pkts); i++ {
		require.Equal(t, pkts[0].ssrc, pkts[i].ssrc)
		require.Equal(t, pkts[i-1].seq+1, pkts[i].seq)
		require.Equal(t, pkts[i-1].ts+FrameSamples, pkts[i].ts)
	}
	require.NotEqual(t, x.pa.ssrc, pkts[0].ssrc)

	back := testSignal(FrameSamples * 50)
	x.pb.sendAudio(x.b.LocalAddr(), PCMU(), back)
	got, _ = recvAudio(t, x.pa, PCMU(), 50)
	require.GreaterOrEqual(t, correlation(back, got, 160), 0.9)

	require.Equal(t, uint64(100), x.a.Stats().PacketsIn)
	require.Equal(t, uint64(100), x.b.Stats().PacketsOut)
	require.Equal(t, 100.0, testutil.ToFloat64(x.br.a.m.received))
}

func TestBridgeTranscodesBetweenLaws(t *testing.T) {
	x := newBridged(t, bridgeSetup{codecA: PCMU(), codecB: PCMA()})
	sig := testSignal(FrameSamples * 50)
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig)
	got, _ := recvAudio(t, x.pb, PCMA(), 50)
	require.GreaterOrEqual(t, correlation(sig, got, 0), 0.99)

	x.pb.sendAudio(x.b.LocalAddr(), PCMA(), sig)
	got, _ = recvAudio(t, x.pa, PCMU(), 50)
	require.GreaterOrEqual(t, correlation(sig, got, 0), 0.99)
}

func TestBridgeRemapsNewSourceOntoOneStream(t *testing.T) {
	x := newBridged(t, bridgeSetup{})
	sig := testSignal(FrameSamples * 4)
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[:FrameSamples*2])
	// A re-INVITEd or replayed source: new SSRC, sequence and timestamps from scratch.
	x.pa.ssrc, x.pa.seq, x.pa.ts = 0x9999, 7, 0
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*2:])
	_, pkts := recvAudio(t, x.pb, PCMU(), 4)
	for i := 1; i < 4; i++ {
		require.Equal(t, pkts[0].ssrc, pkts[i].ssrc)
		require.Equal(t, pkts[i-1].seq+1, pkts[i].seq)
		require.Greater(t, int32(pkts[i].ts-pkts[i-1].ts), int32(0))
	}
	require.True(t, pkts[2].marker, "a source change is marked")
}

func TestBridgePassesDTMFAndReportsItOnce(t *testing.T) {
	var mu sync.Mutex
	var events []string
	x := newBridged(t, bridgeSetup{dtmfA: 101, dtmfB: 96, opts: BridgeOptions{
		OnDTMF: func(leg string, digit rune, d time.Duration) {
			mu.Lock()
			events = append(events, leg+":"+string(digit)+":"+d.String())
			mu.Unlock()
		},
	}})
	send := func(end bool, dur uint16) {
		payload := AppendDTMF(nil, DTMFEvent{Event: 5, End: end, Volume: 10, Duration: dur})
		x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(101, dur == 160, x.pa.seq, 8000, x.pa.ssrc, payload))
		x.pa.seq++
	}
	send(false, 160)
	send(false, 320)
	for range 3 {
		send(true, 800)
	}
	for i := range 5 {
		r := x.pb.recv()
		require.Equal(t, uint8(96), r.pt, "packet %d carries the agent's event PT", i)
		ev, err := ParseDTMF(r.payload)
		require.NoError(t, err)
		require.Equal(t, '5', ev.Digit)
		require.Equal(t, i >= 2, ev.End)
	}
	mu.Lock()
	require.Equal(t, []string{"caller:5:100ms"}, events)
	mu.Unlock()
	require.Equal(t, uint64(1), x.a.Stats().DTMF)
}

func TestBridgeDropsEventsTheOtherLegDidNotNegotiate(t *testing.T) {
	x := newBridged(t, bridgeSetup{dtmfA: 101})
	payload := AppendDTMF(nil, DTMFEvent{Event: 1, End: true, Duration: 800})
	x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(101, true, x.pa.seq, 8000, x.pa.ssrc, payload))
	x.pa.seq++
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), testSignal(FrameSamples))
	r := x.pb.recv()
	require.Equal(t, PCMU().PayloadType, r.pt, "the event was dropped, the audio after it arrives first")
}

func TestLegDropsForeignSourceAndMalformed(t *testing.T) {
	x := newBridged(t, bridgeSetup{})
	sig := testSignal(FrameSamples * 3)
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[:FrameSamples])
	first := x.pb.recv()

	intruder := newPeer(t)
	intruder.ssrc = 0xbad
	intruder.sendAudio(x.a.LocalAddr(), PCMU(), sig)
	x.pa.sendRaw(x.a.LocalAddr(), []byte{0x80, 0x00, 0x01})                                // short
	x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(0, false, 1, 1, 1, []byte{1})[1:])             // not v2
	x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(34, false, x.pa.seq, 1, x.pa.ssrc, []byte{1})) // unknown PT
	x.pa.sendRaw(x.a.LocalAddr(), []byte{0x81, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0})         // muxed RTCP SR: ignored
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples:FrameSamples*2])

	next := x.pb.recv()
	require.Equal(t, first.seq+1, next.seq, "nothing from the intruder or the garbage was relayed")
	st := x.a.Stats()
	require.Equal(t, uint64(3), st.ForeignSource)
	require.Equal(t, uint64(3), st.Malformed)
	require.Equal(t, x.pa.addr(), st.Source)
	require.Equal(t, 3.0, testutil.ToFloat64(x.a.m.foreign))
	require.Equal(t, 3.0, testutil.ToFloat64(x.a.m.malformed))
}

func TestLegLatchesFirstSourceButSDPAddressWins(t *testing.T) {
	x := newBridged(t, bridgeSetup{})
	natted := newPeer(t)
	natted.ssrc = 0x5555
	sig := testSignal(FrameSamples)
	natted.sendAudio(x.a.LocalAddr(), PCMU(), sig)
	x.pb.recv()
	require.Equal(t, natted.addr(), x.a.Stats().Source, "first valid source latched (NAT)")

	// Symmetric RTP: what b relays to a goes where a's peer sends from.
	x.pb.sendAudio(x.b.LocalAddr(), PCMU(), sig)
	natted.recv()

	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig)
	x.pb.recv()
	require.Equal(t, x.pa.addr(), x.a.Stats().Source, "the SDP address takes the latch back")
}

func TestBridgeHoldStopsAndResumeRestartsForwarding(t *testing.T) {
	dtmf := make(chan rune, 1)
	x := newBridged(t, bridgeSetup{dtmfA: 101, opts: BridgeOptions{
		OnDTMF: func(_ string, d rune, _ time.Duration) { dtmf <- d },
	}})
	// processed waits until leg a has handled everything peer A sent: a key press sent last
	// is reported from a's reader goroutine after the packets before it. The agent leg has
	// no telephone-event, so the press itself is not relayed.
	var evTS uint32
	processed := func() {
		evTS += 8000
		payload := AppendDTMF(nil, DTMFEvent{Event: 9, End: true, Duration: 800})
		x.pa.sendRaw(x.a.LocalAddr(), rtpPacket(101, true, x.pa.seq, evTS, x.pa.ssrc, payload))
		x.pa.seq++
		require.Equal(t, '9', <-dtmf)
	}
	sig := testSignal(FrameSamples * 10)
	encoded := func(i int) []byte {
		b := make([]byte, FrameSamples)
		PCMU().Encode(b, sig[FrameSamples*i:FrameSamples*(i+1)])
		return b
	}
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[:FrameSamples])
	x.pb.recv()

	x.b.SetDirection(RecvOnly) // the agent put the call on hold: send it nothing
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples:FrameSamples*5])
	processed()
	// The held agent's music still reaches the caller.
	x.pb.sendAudio(x.b.LocalAddr(), PCMU(), sig[:FrameSamples])
	x.pa.recv()

	x.b.SetDirection(SendRecv)
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*5:FrameSamples*6])
	require.Equal(t, encoded(5), x.pb.recv().payload, "the first packet after resume is the first sent after it")
	require.Equal(t, uint64(2), x.b.Stats().PacketsOut)

	// The old-style hold: the agent re-INVITEs with c=0.0.0.0, then back.
	require.NoError(t, x.b.SetRemote(netip.MustParseAddrPort("0.0.0.0:4000"), PCMU(), 0))
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*6:FrameSamples*8])
	processed()
	require.NoError(t, x.b.SetRemote(x.pb.addr(), PCMU(), 0))
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*8:FrameSamples*9])
	require.Equal(t, encoded(8), x.pb.recv().payload, "nothing was sent to 0.0.0.0")
	require.Equal(t, uint64(3), x.b.Stats().PacketsOut)
}

func TestBridgeInactivityTimeoutFiresOnce(t *testing.T) {
	clock := NewManualClock()
	ft := newFakeTime()
	a := newLoopbackLeg(t, LegOptions{Name: "caller", Now: ft.Now})
	b := newLoopbackLeg(t, LegOptions{Name: "agent", Now: ft.Now})
	fired := make(chan struct{}, 2)
	br := NewBridge(a, b, BridgeOptions{
		Clock: clock, InactivityTimeout: time.Second,
		OnInactive: func() { fired <- struct{}{} },
	})
	require.NoError(t, br.Start())
	defer br.Close()

	b.SetDirection(Inactive) // on hold: the timer does not run
	ft.Advance(5 * time.Second)
	clock.Tick()
	select {
	case <-br.Inactive():
		t.Fatal("inactivity fired while on hold")
	default:
	}

	b.SetDirection(SendRecv)
	ft.Advance(900 * time.Millisecond)
	clock.Tick()
	select {
	case <-br.Inactive():
		t.Fatal("inactivity fired before the timeout")
	default:
	}
	ft.Advance(200 * time.Millisecond)
	clock.Tick()
	clock.Tick()
	<-br.Inactive()
	<-fired
	require.NoError(t, br.Close())
	require.Empty(t, fired, "OnInactive runs once")
}

func TestPlaySendsAudioUntilBridged(t *testing.T) {
	p := newPeer(t)
	l := newLoopbackLeg(t, LegOptions{Name: "caller"})
	require.ErrorIs(t, l.Play(t.Context(), []int16{1}, false), ErrNoRemote)
	require.NoError(t, l.SetRemote(p.addr(), PCMA(), 0))
	sig := testSignal(FrameSamples * 10)
	require.NoError(t, l.Play(t.Context(), sig, false))
	got, _ := recvAudio(t, p, PCMA(), 10)
	require.GreaterOrEqual(t, correlation(sig, got, 0), 0.99)

	other := newLoopbackLeg(t, LegOptions{Name: "agent"})
	errc := make(chan error, 1)
	go func() { errc <- l.Play(t.Context(), sig, true) }()
	p.recv() // looping music is flowing
	br := NewBridge(l, other, BridgeOptions{})
	require.NoError(t, br.Start())
	defer br.Close()
	require.ErrorIs(t, <-errc, ErrBridged)
	require.ErrorIs(t, NewBridge(l, other, BridgeOptions{}).Start(), ErrAlreadyBridged)
}

// A leg whose bridge closed (the other side hung up) plays on its own again: the caller
// hears the survey after the agent has gone.
func TestPlayAfterBridgeCloses(t *testing.T) {
	p := newPeer(t)
	l := newLoopbackLeg(t, LegOptions{Name: "caller"})
	require.NoError(t, l.SetRemote(p.addr(), PCMA(), 0))
	br := NewBridge(l, newLoopbackLeg(t, LegOptions{Name: "agent"}), BridgeOptions{})
	require.NoError(t, br.Start())
	require.ErrorIs(t, l.Play(t.Context(), []int16{1}, false), ErrBridged)
	require.NoError(t, br.Close())
	sig := testSignal(FrameSamples * 10)
	require.NoError(t, l.Play(t.Context(), sig, false))
	got, _ := recvAudio(t, p, PCMA(), 10)
	require.GreaterOrEqual(t, correlation(sig, got, 0), 0.99)
}

func TestCloseIsIdempotent(t *testing.T) {
	a := newLoopbackLeg(t, LegOptions{})
	b := newLoopbackLeg(t, LegOptions{})
	br := NewBridge(a, b, BridgeOptions{})
	require.NoError(t, br.Start())
	require.NoError(t, br.Close())
	require.NoError(t, br.Close())
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	require.ErrorIs(t, NewBridge(a, b, BridgeOptions{}).Close(), nil)
}

func TestRelayPathDoesNotAllocate(t *testing.T) {
	clock := NewManualClock()
	x := newBridged(t, bridgeSetup{codecB: PCMA(), dtmfA: 101, dtmfB: 96, opts: BridgeOptions{
		Clock: clock, TapA: newFrameSink("a"), OnDTMF: func(string, rune, time.Duration) {},
	}})
	pkt := rtpPacket(0, false, 1, 0, 7, frameOf(1000))
	from := x.pa.addr()
	allocs := testing.AllocsPerRun(200, func() {
		advance(pkt)
		x.a.handle(pkt, from)
	})
	require.Zero(t, allocs, "receive, latch, count, tap insert, transcode and send")
}

// A peer moved by a re-INVITE latches again from its new address: the leg stays up and
// keeps receiving (the first-packet signal fires once, however often the latch is reset).
func TestRelatchAfterMove(t *testing.T) {
	l := newLoopbackLeg(t, LegOptions{Name: "caller"})
	p1, p2 := newPeer(t), newPeer(t)
	require.NoError(t, l.SetRemote(p1.addr(), PCMU(), 0))
	p1.sendAudio(l.LocalAddr(), PCMU(), testSignal(FrameSamples))
	select {
	case <-l.Heard():
	case <-time.After(5 * time.Second):
		t.Fatal("the first packet was not heard")
	}
	require.NoError(t, l.SetRemote(p2.addr(), PCMU(), 0)) // moved: the latch is cleared
	p2.sendAudio(l.LocalAddr(), PCMU(), testSignal(FrameSamples))
	require.Eventually(t, func() bool { return l.Stats().Source == p2.addr() }, 5*time.Second, 10*time.Millisecond,
		"latched to the new address")
}
