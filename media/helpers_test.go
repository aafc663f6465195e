package media

import (
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-audio/wav"
	"github.com/stretchr/testify/require"
)

// ioTimeout bounds a socket read in tests so a broken relay fails the test instead of
// hanging it; no assertion depends on it.
const ioTimeout = 5 * time.Second

// listenLoopback binds a UDP socket on 127.0.0.1 at a free port.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	return c
}

func newLoopbackLeg(t testing.TB, opts LegOptions) *Leg {
	t.Helper()
	l := NewLeg(listenLoopback(t), opts)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// peer is a test RTP endpoint: a real UDP socket standing in for a phone.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c := listenLoopback(t)
	t.Cleanup(func() { _ = c.Close() })
	return &peer{t: t, conn: c, ssrc: 0x1234, seq: 100, ts: 1000}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// rtpPacket builds a raw RTP packet.
func rtpPacket(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

func (p *peer) sendRaw(to netip.AddrPort, pkt []byte) {
	p.t.Helper()
	_, err := p.conn.WriteToUDPAddrPort(pkt, to)
	require.NoError(p.t, err)
}

// sendAudio sends pcm as 20 ms packets in codec c, advancing the peer's seq and ts.
func (p *peer) sendAudio(to netip.AddrPort, c Codec, pcm []int16) {
	p.t.Helper()
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		payload := make([]byte, FrameSamples)
		c.Encode(payload, pcm[off:off+FrameSamples])
		p.sendRaw(to, rtpPacket(c.PayloadType, false, p.seq, p.ts, p.ssrc, payload))
		p.seq++
		p.ts += FrameSamples
	}
}

// recvPacket is a received RTP packet, parsed.
type recvPacket struct {
	pt      uint8
	marker  bool
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

func (p *peer) recv() recvPacket {
	p.t.Helper()
	buf := make([]byte, 2048)
	require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	require.NoError(p.t, err, "waiting for a relayed packet")
	require.GreaterOrEqual(p.t, n, 12)
	b := buf[:n]
	return recvPacket{
		pt: b[1] & 0x7f, marker: b[1]&0x80 != 0,
		seq: binary.BigEndian.Uint16(b[2:]), ts: binary.BigEndian.Uint32(b[4:]),
		ssrc: binary.BigEndian.Uint32(b[8:]), payload: b[12:],
	}
}

// testSignal is a 1.5-octave chirp with a slow amplitude envelope: unlike a pure tone its
// cross-correlation has one clear peak, so a misaligned or garbled relay is caught.
func testSignal(n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / SampleRate
		f := 300 + 900*t/(float64(n)/SampleRate)
		env := 0.6 + 0.4*math.Sin(2*math.Pi*1.3*t)
		out[i] = int16(9000 * env * math.Sin(2*math.Pi*f*t))
	}
	return out
}

// correlation is the best normalised cross-correlation of got against want over lags up
// to maxLag samples either way.
func correlation(want, got []int16, maxLag int) float64 {
	best := 0.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var sxy, sxx, syy float64
		for i := range want {
			j := i + lag
			if j < 0 || j >= len(got) {
				continue
			}
			x, y := float64(want[i]), float64(got[j])
			sxy += x * y
			sxx += x * x
			syy += y * y
		}
		if sxx == 0 || syy == 0 {
			continue
		}
		if c := sxy / math.Sqrt(sxx*syy); c > best {
			best = c
		}
	}
	return best
}

// loadSpeech reads the 8 kHz mono speech fixture.
func loadSpeech(t testing.TB) []int16 {
	t.Helper()
	f, err := os.Open("../testdata/media/speech-8k.wav")
	require.NoError(t, err)
	defer f.Close()
	buf, err := wav.NewDecoder(f).FullPCMBuffer()
	require.NoError(t, err)
	require.Equal(t, 8000, buf.Format.SampleRate)
	out := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		out[i] = int16(v)
	}
	return out
}

// frameSink is a FrameWriter that keeps copies of what it is given.
type frameSink struct {
	name   string
	mu     sync.Mutex
	frames []Frame
	notify chan struct{}
}

func newFrameSink(name string) *frameSink {
	return &frameSink{name: name, notify: make(chan struct{}, 1)}
}

func (s *frameSink) WriteFrame(f Frame) error {
	s.mu.Lock()
	f.Samples = append([]int16(nil), f.Samples...)
	s.frames = append(s.frames, f)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *frameSink) String() string { return s.name }

func (s *frameSink) snapshot() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Frame(nil), s.frames...)
}

// fakeTime is an injectable clock for Now.
type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeTime() *fakeTime { return &fakeTime{t: time.Unix(1_700_000_000, 0)} }

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeTime) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func tone(freq float64, rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}
