package media

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
	"github.com/stretchr/testify/require"
)

// newKeys makes a leg's keys: one fresh master key and salt per direction.
func newKeys(t testing.TB) SRTPKeys {
	t.Helper()
	k := SRTPKeys{Profile: SRTPAES128SHA1_80, Local: make([]byte, 30), Remote: make([]byte, 30)}
	_, _ = rand.Read(k.Local)
	_, _ = rand.Read(k.Remote)
	return k
}

// srtpPeer is the phone's side of an SRTP leg, on pion's own contexts: it protects with
// the key the leg receives with, and unprotects with the key the leg sends with.
type srtpPeer struct {
	*peer
	enc, dec *srtp.Context
}

func newSRTPPeer(t testing.TB, leg SRTPKeys) *srtpPeer {
	t.Helper()
	enc, err := srtp.CreateContext(leg.Remote[:16], leg.Remote[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(t, err)
	dec, err := srtp.CreateContext(leg.Local[:16], leg.Local[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(t, err)
	return &srtpPeer{peer: newPeer(t), enc: enc, dec: dec}
}

// sendAudio sends pcm as protected 20 ms packets.
func (p *srtpPeer) sendAudio(to netip.AddrPort, c Codec, pcm []int16) {
	p.t.Helper()
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		payload := make([]byte, FrameSamples)
		c.Encode(payload, pcm[off:off+FrameSamples])
		pkt, err := p.enc.EncryptRTP(nil, rtpPacket(c.PayloadType, false, p.seq, p.ts, p.ssrc, payload), nil)
		require.NoError(p.t, err)
		p.sendRaw(to, pkt)
		p.seq++
		p.ts += FrameSamples
	}
}

// recvAudio reads n packets as they are on the wire, and decrypted.
func (p *srtpPeer) recvAudio(c Codec, n int) (wire, plain []int16, wirePayloads [][]byte) {
	p.t.Helper()
	buf := make([]byte, 2048)
	for range n {
		require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
		k, _, err := p.conn.ReadFromUDPAddrPort(buf)
		require.NoError(p.t, err, "waiting for a relayed packet")
		pkt := bytes.Clone(buf[:k])
		// what a listener on the wire has: the payload after the 12-byte header
		w := make([]int16, FrameSamples)
		c.Decode(w, pkt[12:12+FrameSamples])
		wire = append(wire, w...)
		wirePayloads = append(wirePayloads, pkt[12:k])
		dec, err := p.dec.DecryptRTP(nil, pkt, nil)
		require.NoError(p.t, err, "the phone authenticates what the gateway sent")
		d := make([]int16, len(dec)-12)
		c.Decode(d, dec[12:])
		plain = append(plain, d...)
	}
	return wire, plain, wirePayloads
}

// Speech crosses a bridge between an SRTP leg and a plain one, both ways: each phone hears
// the other, and what travels on the SRTP side is not the speech.
func TestSRTPLegRelaysSpeechEncrypted(t *testing.T) {
	keys := newKeys(t)
	plainPeer := newPeer(t)
	secure := newSRTPPeer(t, keys)
	a := newLoopbackLeg(t, LegOptions{Name: "caller"})
	b := newLoopbackLeg(t, LegOptions{Name: "agent"})
	require.NoError(t, b.SetSRTP(keys))
	require.NoError(t, a.SetRemote(plainPeer.addr(), PCMU(), 0))
	require.NoError(t, b.SetRemote(secure.addr(), PCMU(), 0))
	br := NewBridge(a, b, BridgeOptions{})
	require.NoError(t, br.Start())
	t.Cleanup(func() { _ = br.Close() })

	speech := loadSpeech(t)[:FrameSamples*100]
	plainPeer.sendAudio(a.LocalAddr(), PCMU(), speech)
	wire, heard, payloads := secure.recvAudio(PCMU(), 100)
	require.GreaterOrEqual(t, correlation(speech, heard, 160), 0.9, "the SRTP phone hears the caller")
	require.Less(t, correlation(speech, wire, 160), 0.2, "the wire does not carry the speech")
	for i, p := range payloads {
		plain := make([]byte, FrameSamples)
		PCMU().Encode(plain, speech[i*FrameSamples:(i+1)*FrameSamples])
		require.False(t, bytes.Contains(p, plain[:32]), "packet %d carries the plain payload", i)
	}

	secure.sendAudio(b.LocalAddr(), PCMU(), speech)
	got, _ := recvAudio(t, plainPeer, PCMU(), 100)
	require.GreaterOrEqual(t, correlation(speech, got, 160), 0.9, "the plain phone hears the SRTP phone")
	st := b.Stats()
	require.Equal(t, uint64(100), st.PacketsIn)
	require.Zero(t, st.Unauthenticated)
}

// An SRTP leg takes nothing that fails authentication: plain RTP, another key's packets
// or a replay are dropped and counted, and none of them latches the leg's source, so an
// outsider cannot take the stream over.
func TestSRTPLegDropsUnauthenticated(t *testing.T) {
	keys := newKeys(t)
	leg := newLoopbackLeg(t, LegOptions{Name: "agent"})
	require.NoError(t, leg.SetSRTP(keys))
	phone := newSRTPPeer(t, keys)
	require.NoError(t, leg.SetRemote(phone.addr(), PCMU(), 0))

	intruder := newPeer(t)
	intruder.sendAudio(leg.LocalAddr(), PCMU(), tone(1000, SampleRate, FrameSamples*5))
	forger := newSRTPPeer(t, newKeys(t))
	forger.sendAudio(leg.LocalAddr(), PCMU(), tone(1000, SampleRate, FrameSamples*5))
	require.Eventually(t, func() bool { return leg.Stats().Unauthenticated == 10 }, ioTimeout, time.Millisecond)
	st := leg.Stats()
	require.Zero(t, st.PacketsIn)
	require.False(t, st.Source.IsValid(), "no unauthenticated packet latched the leg")

	phone.sendAudio(leg.LocalAddr(), PCMU(), tone(1000, SampleRate, FrameSamples))
	require.Eventually(t, func() bool { return leg.Stats().PacketsIn == 1 }, ioTimeout, time.Millisecond)
	require.Equal(t, phone.addr(), leg.Stats().Source)

	// the same packet again, as an attacker who recorded it would send it
	phone.seq--
	phone.ts -= FrameSamples
	replay, err := srtp.CreateContext(keys.Remote[:16], keys.Remote[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(t, err)
	payload := make([]byte, FrameSamples)
	PCMU().Encode(payload, tone(1000, SampleRate, FrameSamples))
	pkt, err := replay.EncryptRTP(nil, rtpPacket(0, false, phone.seq, phone.ts, phone.ssrc, payload), nil)
	require.NoError(t, err)
	phone.sendRaw(leg.LocalAddr(), pkt)
	require.Eventually(t, func() bool { return leg.Stats().Unauthenticated == 11 }, ioTimeout, time.Millisecond)
	require.Equal(t, uint64(1), leg.Stats().PacketsIn)
}

// A leg given plain RTP again (a re-INVITE that drops crypto is refused by SIP, but the
// leg's own contract is symmetric) sends and takes plain packets.
func TestSRTPLegOffAgain(t *testing.T) {
	leg := newLoopbackLeg(t, LegOptions{Name: "agent"})
	require.NoError(t, leg.SetSRTP(newKeys(t)))
	require.NoError(t, leg.SetSRTP(SRTPKeys{}))
	require.Nil(t, leg.SRTP())
	p := newPeer(t)
	require.NoError(t, leg.SetRemote(p.addr(), PCMU(), 0))
	p.sendAudio(leg.LocalAddr(), PCMU(), tone(1000, SampleRate, FrameSamples))
	require.Eventually(t, func() bool { return leg.Stats().PacketsIn == 1 }, ioTimeout, time.Millisecond)
}

func TestSRTPKeysChecked(t *testing.T) {
	leg := newLoopbackLeg(t, LegOptions{Name: "agent"})
	k := newKeys(t)
	k.Remote = k.Remote[:16]
	require.ErrorIs(t, leg.SetSRTP(k), ErrSRTPKeys)
	require.ErrorIs(t, leg.SetSRTP(SRTPKeys{Profile: 9, Local: k.Local, Remote: k.Local}), ErrSRTPKeys)
	require.Nil(t, leg.SRTP(), "bad keys leave the leg as it was")
	require.NotContains(t, newKeys(t).String(), "inline", "keys never print")
}

// A new key from the peer (a re-INVITE) leaves the gateway's own stream as it was: its
// SRTCP index goes on, so the peer, whose replay window remembers it, still takes it.
func TestSRTPRekeyKeepsOwnDirection(t *testing.T) {
	keys := newKeys(t)
	s, err := NewSRTP(keys)
	require.NoError(t, err)
	peerDec, err := srtp.CreateContext(keys.Local[:16], keys.Local[16:], srtp.ProtectionProfileAes128CmHmacSha1_80,
		srtp.SRTCPReplayProtection(64))
	require.NoError(t, err)
	rr, err := (&rtcp.ReceiverReport{SSRC: 7}).Marshal()
	require.NoError(t, err)
	for range 3 {
		pkt, err := s.ProtectRTCP(nil, rr)
		require.NoError(t, err)
		_, err = peerDec.DecryptRTCP(nil, pkt, nil)
		require.NoError(t, err)
	}
	rekeyed := keys
	rekeyed.Remote = newKeys(t).Remote
	s2, err := s.rekey(rekeyed)
	require.NoError(t, err)
	pkt, err := s2.ProtectRTCP(nil, rr)
	require.NoError(t, err)
	_, err = peerDec.DecryptRTCP(nil, pkt, nil)
	require.NoError(t, err, "the stream went on; a fresh one would replay index 1")
	require.True(t, s2.Keys().Equal(rekeyed))
}

// SRTCP both ways: what one side protects the other reads back; a replay is refused.
func TestSRTCPRoundTrip(t *testing.T) {
	keys := newKeys(t)
	gw, err := NewSRTP(keys)
	require.NoError(t, err)
	phone, err := NewSRTP(SRTPKeys{Profile: keys.Profile, Local: keys.Remote, Remote: keys.Local})
	require.NoError(t, err)
	sr, err := (&rtcp.SenderReport{SSRC: 42, PacketCount: 9, OctetCount: 1440}).Marshal()
	require.NoError(t, err)
	pkt, err := gw.ProtectRTCP(nil, sr)
	require.NoError(t, err)
	require.NotEqual(t, sr[8:], pkt[8:len(sr)], "the report is encrypted")
	got, err := phone.UnprotectRTCP(nil, pkt)
	require.NoError(t, err)
	require.Equal(t, sr, got)
	_, err = phone.UnprotectRTCP(nil, pkt)
	require.Error(t, err, "a replayed report is refused")
}

// BenchmarkSRTPLegMinute is what SRTP adds to one leg of a call for a minute: 50 packets
// a second protected on the way out and 50 unprotected on the way in (3,000 each), 160-
// byte G.711 payloads, and the leg's key set-up. One op is one leg-minute; a call with
// both legs encrypted (caller and seat) costs two, reported as cpu-ms/call-min.
func BenchmarkSRTPLegMinute(b *testing.B) {
	const perMinute = 50 * 60
	keys := newKeys(b)
	phone, err := NewSRTP(SRTPKeys{Profile: keys.Profile, Local: keys.Remote, Remote: keys.Local})
	require.NoError(b, err)
	payload := make([]byte, FrameSamples)
	PCMU().Encode(payload, testSignal(FrameSamples))
	// what the phone sends in a minute, protected once here
	inbound := make([][]byte, perMinute)
	in := rtpPacket(0, false, 1, 0, 0xb, payload)
	for i := range inbound {
		advance(in)
		inbound[i], err = phone.ProtectRTP(nil, in)
		require.NoError(b, err)
	}
	out := rtpPacket(0, false, 1, 0, 0xa, payload)
	sent := make([]byte, 0, 1500)
	got := make([]byte, 0, 1500)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		gw, err := NewSRTP(keys)
		if err != nil {
			b.Fatal(err)
		}
		for i := range perMinute {
			advance(out)
			if _, err := gw.ProtectRTP(sent[:0], out); err != nil {
				b.Fatal(err)
			}
			if _, err := gw.UnprotectRTP(got[:0], inbound[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	// CPU rather than wall time: the figure must hold on a machine shared with other work
	perLeg := (cpuTime() - cpu0).Seconds() * 1000 / float64(b.N)
	b.ReportMetric(perLeg, "cpu-ms/leg-min")
	b.ReportMetric(2*perLeg, "cpu-ms/call-min")
}
