package webrtcseat_test

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"lianxin/callflow"
	"lianxin/media"
	"lianxin/webrtcseat"
	"lianxin/webrtcseat/webrtcseattest"
)

// tone returns a generator of 20 ms frames of a sine at freq Hz.
func tone(freq float64, amp float64) func() []int16 {
	var n int
	var mu sync.Mutex
	return func() []int16 {
		mu.Lock()
		defer mu.Unlock()
		f := make([]int16, media.FrameSamples)
		for i := range f {
			f[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(n)/media.SampleRate))
			n++
		}
		return f
	}
}

// level is the amplitude (0…1) of the freq component of pcm (Goertzel).
func level(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / media.SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(pcm))
}

// flowLeg stands in for the call flow's agent leg: it plays a tone to the seat call and
// records what comes back (audio and RFC 4733 digits).
type flowLeg struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	heard  []int16
	digits []uint8
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newFlowLeg(t *testing.T) *flowLeg {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	f := &flowLeg{conn: conn, stop: make(chan struct{})}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.read() }()
	t.Cleanup(f.close)
	return f
}

func (f *flowLeg) addr() netip.AddrPort { return f.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (f *flowLeg) read() {
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	var p rtp.Packet
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		f.mu.Lock()
		switch p.PayloadType {
		case 0:
			k := media.PCMU().Decode(pcm, p.Payload)
			f.heard = append(f.heard, pcm[:k]...)
		case 101:
			if ev, err := media.ParseDTMF(p.Payload); err == nil && ev.End {
				if len(f.digits) == 0 || f.digits[len(f.digits)-1] != ev.Event {
					f.digits = append(f.digits, ev.Event)
				}
			}
		}
		f.mu.Unlock()
	}
}

// play sends a tone to dest every 20 ms until close.
func (f *flowLeg) play(dest netip.AddrPort, gen func() []int16) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(media.FrameDuration)
		defer t.Stop()
		h := rtp.Header{Version: 2, SSRC: 7}
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
			}
			h.SequenceNumber++
			h.Timestamp += media.FrameSamples
			payload := make([]byte, media.FrameSamples)
			media.PCMU().Encode(payload, gen())
			b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
			_, _ = f.conn.WriteToUDPAddrPort(b, dest)
		}
	}()
}

func (f *flowLeg) take() []int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.heard
	f.heard = nil
	return h
}

func (f *flowLeg) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	f.conn.Close()
	f.wg.Wait()
}

func newEngine(t *testing.T, codecs ...string) (*webrtcseat.Engine, *events) {
	ev := &events{}
	e, err := webrtcseat.New(webrtcseat.Config{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Codecs: codecs, Grace: 10 * time.Second},
		webrtcseat.Options{Registerer: prometheus.NewRegistry(), OnPhone: ev.phone, OnMonitor: ev.monitor})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()); require.NoError(t, e.Close()) })
	return e, ev
}

type events struct {
	mu     sync.Mutex
	phones []string
	mons   []webrtcseat.MonitorEvent
}

func (e *events) phone(seat string, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := seat + " off"
	if on {
		s = seat + " on"
	}
	e.phones = append(e.phones, s)
}

func (e *events) monitor(m webrtcseat.MonitorEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mons = append(e.mons, m)
}

func (e *events) snapshot() ([]string, []webrtcseat.MonitorEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.phones...), append([]webrtcseat.MonitorEvent(nil), e.mons...)
}

// openPage opens a page for seat on e and makes it the seat's phone.
func openPage(t *testing.T, e *webrtcseat.Engine, seat string, opts webrtcseattest.Options) *webrtcseattest.Page {
	p := webrtcseattest.New(opts)
	p.Attach(e.Open(webrtcseat.Client{User: seat, Seat: seat}, p.Deliver))
	t.Cleanup(func() { _ = p.Close() })
	require.NoError(t, p.Send("phone.register", map[string]any{"on": true}))
	require.Eventually(t, func() bool { return e.Phone(seat) }, 2*time.Second, 10*time.Millisecond)
	return p
}

// heardTone waits until the recording taken by take holds freq above min.
func heardTone(t *testing.T, take func() []int16, freq, min float64, what string) {
	t.Helper()
	var got float64
	var acc []int16
	require.Eventually(t, func() bool {
		acc = append(acc, take()...)
		if len(acc) < 1600 {
			return false
		}
		acc = acc[len(acc)-1600:]
		got = level(acc, freq)
		return got >= min
	}, 10*time.Second, 100*time.Millisecond, "%s: %.0f Hz at %.3f", what, freq, got)
}

// quietTone waits until a full second of the recording taken by take is without freq:
// the audio keeps coming, the tone does not.
func quietTone(t *testing.T, take func() []int16, freq float64, what string) {
	t.Helper()
	var got float64
	var acc []int16
	require.Eventually(t, func() bool {
		acc = append(acc, take()...)
		if len(acc) < 8000 {
			return false
		}
		got = level(acc[len(acc)-8000:], freq)
		acc = acc[len(acc)-8000:]
		return got < 0.01
	}, 10*time.Second, 100*time.Millisecond, "%s: %.0f Hz still at %.3f", what, freq, got)
}

func ring(t *testing.T, e *webrtcseat.Engine, flow *flowLeg, seat string) callflow.SeatCall {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := e.Ring(ctx, callflow.Ring{Seat: seat, Local: flow.addr(), Codecs: []string{"PCMU"}, CallerID: "13800000000"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sc.Hangup(context.Background()) })
	return sc
}

func TestBrowserPhoneRelaysBothWays(t *testing.T) {
	for _, codec := range []string{"opus", "PCMU"} {
		t.Run(codec, func(t *testing.T) {
			e, ev := newEngine(t)
			page := openPage(t, e, "seat-01", webrtcseattest.Options{Codec: codec, AutoAnswer: true, Mic: tone(440, 0.3)})
			flow := newFlowLeg(t)
			sc := ring(t, e, flow, "seat-01")
			require.Equal(t, "PCMU", sc.Remote().Codec)
			require.EqualValues(t, 101, sc.Remote().DTMFType)
			flow.play(sc.Remote().Addr, tone(1000, 0.3))
			heardTone(t, page.Heard, 1000, 0.1, "the page hears the caller")
			heardTone(t, flow.take, 440, 0.1, "the caller hears the page's microphone")
			phones, _ := ev.snapshot()
			require.Equal(t, []string{"seat-01 on"}, phones)
		})
	}
}

func TestDTMFMuteHoldAndHangupFromThePage(t *testing.T) {
	e, ev := newEngine(t)
	page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))
	heardTone(t, flow.take, 440, 0.1, "before mute")

	require.NoError(t, page.Send("phone.dtmf", map[string]any{"call": page.Call(), "digits": "5#"}))
	require.Eventually(t, func() bool {
		flow.mu.Lock()
		defer flow.mu.Unlock()
		return len(flow.digits) == 2
	}, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, []uint8{5, 11}, flow.digits)
	require.Error(t, page.Send("phone.dtmf", map[string]any{"call": page.Call(), "digits": "x"}))

	require.NoError(t, page.Send("phone.mute", map[string]any{"call": page.Call(), "on": true}))
	quietTone(t, flow.take, 440, "mute silences the agent")
	require.NoError(t, page.Send("phone.mute", map[string]any{"call": page.Call(), "on": false}))
	heardTone(t, flow.take, 440, 0.1, "after unmute")

	// hold: the caller hears silence and the page is sent nothing
	require.NoError(t, page.Send("phone.hold", map[string]any{"call": page.Call(), "on": true}))
	quietTone(t, flow.take, 440, "hold silences the agent")
	page.Heard()
	var waited []int16
	require.Eventually(t, func() bool { waited = append(waited, flow.take()...); return len(waited) >= 8000 },
		5*time.Second, 20*time.Millisecond, "the page keeps sending while held")
	require.Less(t, len(page.Heard()), 800, "a held page is sent nothing (a second passed)")
	require.NoError(t, page.Send("phone.hold", map[string]any{"call": page.Call(), "on": false}))
	heardTone(t, page.Heard, 1000, 0.1, "after hold, the page hears the caller again")
	heardTone(t, flow.take, 440, 0.1, "and the caller the agent")

	require.NoError(t, page.Send("phone.hangup", map[string]any{"call": page.Call()}))
	select {
	case <-sc.Context().Done():
		require.ErrorIs(t, context.Cause(sc.Context()), webrtcseat.ErrHangup)
	case <-time.After(2 * time.Second):
		t.Fatal("the page's hang-up did not end the seat call")
	}
	_, mons := ev.snapshot()
	require.Empty(t, mons)
}

// The gateway's candidates use the configured ports: a range, or one muxed port for every
// page.
func TestCandidatePorts(t *testing.T) {
	for name, cfg := range map[string]webrtcseat.Config{
		"range": {PortMin: 46100, PortMax: 46110},
		"mux":   {MuxPort: 46120, MuxIP: netip.MustParseAddr("127.0.0.1")},
		// NAT 1:1: the candidates announce the public address (a loopback one here, so no
		// test packet leaves the host)
		"public": {PublicIPs: []string{"127.0.0.2"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Networks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			e, err := webrtcseat.New(cfg, webrtcseat.Options{Registerer: prometheus.NewRegistry()})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
			flow := newFlowLeg(t)
			sc := ring(t, e, flow, "seat-01")
			flow.play(sc.Remote().Addr, tone(1000, 0.3))
			heardTone(t, page.Heard, 1000, 0.1, "the page hears the caller")
			var c struct {
				Candidate struct{ Candidate string } `json:"candidate"`
			}
			require.NoError(t, json.Unmarshal(page.Last("phone.candidate"), &c))
			f := strings.Fields(c.Candidate.Candidate) // foundation component proto priority ip port typ …
			require.GreaterOrEqual(t, len(f), 6, c.Candidate.Candidate)
			port, err := strconv.Atoi(f[5])
			require.NoError(t, err)
			switch {
			case len(cfg.PublicIPs) > 0:
				require.Equal(t, "127.0.0.2", f[4])
			case cfg.MuxPort > 0:
				require.Equal(t, cfg.MuxPort, port)
			default:
				require.True(t, port >= int(cfg.PortMin) && port <= int(cfg.PortMax), "port %d outside the range", port)
			}
		})
	}
}
