package media

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/internal/audiotest"
	"lianxin/media/g722"
)

// g722Peer is a test peer's G.722 encoder and decoder: one stream each way.
type g722Peer struct {
	*peer
	enc *g722.Encoder
	dec *g722.Decoder
}

func newG722Peer(t *testing.T) *g722Peer {
	return &g722Peer{peer: newPeer(t), enc: g722.NewEncoder(), dec: g722.NewDecoder()}
}

// send sends 16 kHz pcm as 20 ms G.722 packets: 320 samples, 160 bytes, 160 timestamp units.
func (p *g722Peer) send(to *Leg, pcm []int16) {
	p.t.Helper()
	for off := 0; off+2*FrameSamples <= len(pcm); off += 2 * FrameSamples {
		payload := make([]byte, FrameSamples)
		p.enc.Encode(payload, pcm[off:off+2*FrameSamples])
		p.sendRaw(to.LocalAddr(), rtpPacket(g722.PayloadType, false, p.seq, p.ts, p.ssrc, payload))
		p.seq++
		p.ts += FrameSamples
	}
}

// recv decodes n G.722 packets to 16 kHz PCM and returns them with the packets.
func (p *g722Peer) recv(n int) ([]int16, []recvPacket) {
	p.t.Helper()
	var pcm []int16
	var pkts []recvPacket
	for range n {
		r := p.peer.recv()
		require.Equal(p.t, uint8(g722.PayloadType), r.pt)
		out := make([]int16, 2*len(r.payload))
		pcm = append(pcm, out[:p.dec.Decode(out, r.payload)]...)
		pkts = append(pkts, r)
	}
	return pcm, pkts
}

// upsample is a test's reference 8 → 16 kHz conversion.
func upsample(pcm []int16) []int16 {
	var p interpolator
	out := make([]int16, 2*len(pcm))
	p.process(out, pcm)
	return out
}

// wideSpeech is the speech fixture at 16 kHz with a 5 kHz tone over it: the tone is what
// only a wideband path carries.
func wideSpeech(t *testing.T, frames int) []int16 {
	out := upsample(loadSpeech(t)[:FrameSamples*frames])
	for i := range out {
		out[i] = int16(float64(out[i])*0.7 + 3000*math.Sin(2*math.Pi*5000*float64(i)/WideRate))
	}
	return out
}

// A G.711 caller and a G.722 seat hear each other: the caller's speech reaches the seat
// as G.722 packets on the same timestamps, and the seat's speech reaches the caller as
// µ-law without the 5 kHz tone, which would otherwise fold to 3 kHz.
func TestBridgeTranscodesG711AndG722(t *testing.T) {
	x := newBridged(t, bridgeSetup{codecA: PCMU(), codecB: G722()})
	seat := &g722Peer{peer: x.pb, enc: g722.NewEncoder(), dec: g722.NewDecoder()}
	speech := loadSpeech(t)[:FrameSamples*100]
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), speech)
	heard, pkts := seat.recv(100)
	for i := 1; i < len(pkts); i++ {
		require.Len(t, pkts[i].payload, FrameSamples, "20 ms of G.722 is 160 bytes")
		require.Equal(t, pkts[i-1].ts+FrameSamples, pkts[i].ts, "G.722's RTP clock is 8000")
	}
	c, _ := audiotest.BestCorrelation(upsample(speech), heard, 200)
	require.Greater(t, c, 0.9, "the G.722 seat hears the µ-law caller")

	said := wideSpeech(t, 60)
	seat.send(x.b, said)
	got, _ := recvAudio(t, x.pa, PCMU(), 60)
	c, _ = audiotest.BestCorrelation(loadSpeech(t)[:len(got)], got, 200)
	require.Greater(t, c, 0.8, "the µ-law caller hears the G.722 seat's speech")
	require.Less(t, audiotest.Tone(got[800:], SampleRate, 3000), 0.001, "5 kHz did not fold to 3 kHz")
}

// The bridge's taps stay 8 kHz for a G.722 leg (the recording's format); the leg's
// wideband tap gives the recogniser the seat's 16 kHz, 5 kHz tone and all.
func TestG722LegTapsBothRates(t *testing.T) {
	agentTap, wide := newFrameSink("agent"), newFrameSink("wide")
	clock := NewManualClock()
	x := newBridged(t, bridgeSetup{codecA: PCMU(), codecB: G722(), opts: BridgeOptions{TapB: agentTap, Clock: clock}})
	x.b.TapWideband(wide)
	seat := &g722Peer{peer: x.pb, enc: g722.NewEncoder(), dec: g722.NewDecoder()}
	said := wideSpeech(t, 50)
	for i := range 50 {
		seat.send(x.b, said[i*2*FrameSamples:(i+1)*2*FrameSamples])
		x.pa.recv() // relayed, so the leg has decoded and tapped it
		clock.Tick()
	}
	for range 3 {
		clock.Tick() // the window's 60 ms
	}
	require.Len(t, wide.snapshot(), 50)
	var w []int16
	for _, f := range wide.snapshot() {
		require.Equal(t, WideRate, f.Rate)
		require.Equal(t, time.Duration(len(w))*time.Second/WideRate, f.Offset)
		w = append(w, f.Samples...)
	}
	require.Greater(t, audiotest.Tone(w[1600:], WideRate, 5000), 0.3, "the wideband tap carries 5 kHz")
	snr, _ := audiotest.SNR(said, w, 100)
	require.Greater(t, snr, 10.0)

	var narrow []int16
	for _, f := range agentTap.snapshot() {
		require.Equal(t, SampleRate, f.Rate)
		narrow = append(narrow, f.Samples...)
	}
	c, _ := audiotest.BestCorrelation(loadSpeech(t)[:FrameSamples*50], narrow, 800)
	require.Greater(t, c, 0.8, "the 8 kHz tap (the recording's agent channel) has the seat's speech")
}

// A re-INVITE that moves a seat from PCMU to G.722 and back switches the leg's codec
// without a gap: each stretch is relayed in the codec of its moment.
func TestCodecChangeMidCall(t *testing.T) {
	x := newBridged(t, bridgeSetup{codecA: PCMU(), codecB: PCMU()})
	sig := testSignal(FrameSamples * 30)
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[:FrameSamples*10])
	first, _ := recvAudio(t, x.pb, PCMU(), 10)

	require.NoError(t, x.b.SetRemote(x.pb.addr(), G722(), 0))
	require.Equal(t, G722(), x.b.Codec())
	seat := &g722Peer{peer: x.pb, enc: g722.NewEncoder(), dec: g722.NewDecoder()}
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*10:FrameSamples*20])
	wide, pkts := seat.recv(10)
	require.Equal(t, uint8(9), pkts[0].pt)

	require.NoError(t, x.b.SetRemote(x.pb.addr(), PCMU(), 0))
	x.pa.sendAudio(x.a.LocalAddr(), PCMU(), sig[FrameSamples*20:])
	last, _ := recvAudio(t, x.pb, PCMU(), 10)

	for _, seg := range []struct {
		name      string
		sent, got []int16
	}{
		{"PCMU", sig[:FrameSamples*10], first},
		{"G722", upsample(sig[FrameSamples*10 : FrameSamples*20]), wide},
		{"PCMU again", sig[FrameSamples*20:], last},
	} {
		c, _ := audiotest.BestCorrelation(seg.sent, seg.got, 100)
		require.Greater(t, c, 0.95, seg.name)
	}

	// the seat speaks G.722 now and back: both reach the caller
	require.NoError(t, x.b.SetRemote(x.pb.addr(), G722(), 0))
	seat.enc.Reset()
	seat.send(x.b, upsample(sig[:FrameSamples*10]))
	back, _ := recvAudio(t, x.pa, PCMU(), 10)
	c, _ := audiotest.BestCorrelation(sig[:FrameSamples*10], back, 100)
	require.Greater(t, c, 0.95)
}

// Play on a G.722 leg (hold music, prompts) is encoded wideband from its 8 kHz source.
func TestPlayOnG722Leg(t *testing.T) {
	p := newG722Peer(t)
	l := newLoopbackLeg(t, LegOptions{Name: "agent"})
	require.NoError(t, l.SetRemote(p.addr(), G722(), 0))
	sig := testSignal(FrameSamples * 10)
	require.NoError(t, l.Play(t.Context(), sig, false))
	got, _ := p.recv(10)
	c, _ := audiotest.BestCorrelation(upsample(sig), got, 200)
	require.Greater(t, c, 0.95)
}

// A wideband tap on a G.711 leg interpolates, so a recogniser stream keeps 16 kHz.
func TestWidebandTapOnG711Leg(t *testing.T) {
	p := newPeer(t)
	l := newLoopbackLeg(t, LegOptions{Name: "agent"})
	require.NoError(t, l.SetRemote(p.addr(), PCMA(), 0))
	wide := newFrameSink("wide")
	l.TapWideband(wide)
	sig := testSignal(FrameSamples * 10)
	p.sendAudio(l.LocalAddr(), PCMA(), sig)
	require.Eventually(t, func() bool { return len(wide.snapshot()) == 10 }, ioTimeout, time.Millisecond)
	var w []int16
	for _, f := range wide.snapshot() {
		require.Equal(t, WideRate, f.Rate)
		w = append(w, f.Samples...)
	}
	c, _ := audiotest.BestCorrelation(upsample(sig), w, 100)
	require.Greater(t, c, 0.99)
	l.TapWideband(nil)
}
