package callflow

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"lianxin/asr"
	"lianxin/internal/audiotest"
	"lianxin/media"
	"lianxin/media/g722"
	"lianxin/seat"
)

// g722Phone is a wideband desk phone: it answers in G.722 and says a 1 kHz tone with a
// 5 kHz one over it (which no 8 kHz path carries).
type g722Phone struct {
	conn *net.UDPConn
	stop chan struct{}
	wg   sync.WaitGroup
}

func startG722Phone(t *testing.T, to netip.AddrPort) *g722Phone {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	p := &g722Phone{conn: c, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.send(to)
	t.Cleanup(func() { close(p.stop); c.Close(); p.wg.Wait() })
	return p
}

func (p *g722Phone) send(to netip.AddrPort) {
	defer p.wg.Done()
	enc := g722.NewEncoder()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pcm, payload := make([]int16, 320), make([]byte, 160)
	for n, seq := 0, uint16(0); ; seq++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		for i := range pcm {
			ts := float64(n+i) / g722.SampleRate
			pcm[i] = int16(6000*math.Sin(2*math.Pi*1000*ts) + 6000*math.Sin(2*math.Pi*5000*ts))
		}
		n += len(pcm)
		enc.Encode(payload, pcm)
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: g722.PayloadType, SequenceNumber: seq,
			Timestamp: uint32(seq) * 160, SSRC: 722}, Payload: payload}).Marshal()
		_, _ = p.conn.WriteToUDPAddrPort(b, to)
	}
}

// g722Phones rings G.722 phones and keeps the codecs each ring offered.
type g722Phones struct {
	t      *testing.T
	mu     sync.Mutex
	offers [][]string
}

func (p *g722Phones) Ring(_ context.Context, r Ring) (SeatCall, error) {
	p.mu.Lock()
	p.offers = append(p.offers, r.Codecs)
	p.mu.Unlock()
	sctx, cancel := context.WithCancelCause(context.Background())
	p.t.Cleanup(func() { cancel(errors.New("test over")) })
	phone := startG722Phone(p.t, r.Local)
	return &g722SeatCall{fakeSeatCall: &fakeSeatCall{ctx: sctx, hangUp: cancel}, phone: phone}, nil
}

type g722SeatCall struct {
	*fakeSeatCall
	phone *g722Phone
}

func (s *g722SeatCall) Remote() Media {
	return Media{Addr: s.phone.conn.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: "G722", PayloadType: 9}
}

// keepingEngine keeps each stream's config and audio.
type keepingEngine struct {
	mu   sync.Mutex
	cfgs map[string]asr.StreamConfig
	pcm  map[string][]int16
}

func (e *keepingEngine) Name() string                       { return "keeping" }
func (e *keepingEngine) Close() error                       { return nil }
func (e *keepingEngine) ForLine(string) (asr.Engine, error) { return e, nil }

func (e *keepingEngine) NewStream(_ context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfgs[cfg.Channel] = cfg
	return &keepingStream{e: e, ch: cfg.Channel, res: make(chan asr.Result)}, nil
}

func (e *keepingEngine) audio(ch string) []int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int16(nil), e.pcm[ch]...)
}

type keepingStream struct {
	e    *keepingEngine
	ch   string
	res  chan asr.Result
	once sync.Once
}

func (s *keepingStream) Write(f media.Frame) error {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if f.Rate != s.e.cfgs[s.ch].SampleRate {
		return errors.New("frame at another rate than the stream's")
	}
	s.e.pcm[s.ch] = append(s.e.pcm[s.ch], f.Samples...)
	return nil
}
func (s *keepingStream) Results() <-chan asr.Result { return s.res }
func (s *keepingStream) Close() error               { s.once.Do(func() { close(s.res) }); return nil }

// A G.722 desk phone is offered G.722 first, its agent reaches the recogniser at 16 kHz
// with the 5 kHz only wideband carries, and the caller hears the agent's 1 kHz without
// the 5 kHz folded to 3 kHz.
func TestG722SeatFeedsRecogniserWideband(t *testing.T) {
	eng := &keepingEngine{cfgs: map[string]asr.StreamConfig{}, pcm: map[string][]int16{}}
	tf := newTestFlow(t, []string{"seat-01"}, nil, func(c *Config, _ *seat.Config) { c.G722 = true })
	phones := &g722Phones{t: t}
	tf.deps.ASR, tf.deps.Phones = eng, phones
	caller := newFakeCaller(t, 400)
	done := tf.handle(t, caller)
	require.Eventually(t, func() bool {
		return len(eng.audio("agent")) > 2*16000 && len(caller.peer.received()) > 2*8000
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"G722", "PCMU", "PCMA"}, phones.offers[0], "G.722 first, then the caller's law")
	require.Equal(t, 16000, eng.cfgs["agent"].SampleRate)
	require.Equal(t, 8000, eng.cfgs["caller"].SampleRate)
	agent := eng.audio("agent")
	require.Greater(t, audiotest.Tone(agent[16000:], 16000, 5000), 0.3, "the recogniser hears 5 kHz from the agent")
	heard := caller.peer.received()
	heard = heard[len(heard)-8000:]
	requireTone(t, heard, 1000, 3000, "the caller hears the agent's 1 kHz, nothing folded to 3 kHz")

	caller.hangUp(errors.New("caller hung up"))
	<-done
	require.Equal(t, Completed, tf.obs.waitEnded(t).outcome)
}

// Without media.g722 the seat is offered the caller's law first, as before.
func TestSeatCodecsWithoutG722(t *testing.T) {
	require.Equal(t, []string{"PCMA", "PCMU"}, seatCodecs([]string{"PCMA"}, false))
	require.Equal(t, []string{"G722", "PCMA", "PCMU"}, seatCodecs([]string{"PCMA"}, true))
}
