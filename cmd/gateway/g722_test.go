package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"lianxin/asr/asrtest/standin"
	"lianxin/config"
	"lianxin/internal/audiotest"
	"lianxin/internal/testpeer"
)

// captureASR is a recogniser stand-in speaking the FunASR protocol that recognises nothing
// and keeps each stream's audio, by channel, at the rate it arrived (audio_fs).
type captureASR struct {
	srv  *standin.Server
	mu   sync.Mutex
	pcm  map[string][]int16
	rate map[string]int
}

func newCaptureASR(t *testing.T) *captureASR {
	c := &captureASR{pcm: map[string][]int16{}, rate: map[string]int{}}
	c.srv = standin.New("capture", c.handle, nil)
	t.Cleanup(c.srv.Close)
	return c
}

func (c *captureASR) handle(s *standin.Session) {
	var ch string
	for {
		typ, b, err := s.Read()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			c.mu.Lock()
			for i := 0; i+1 < len(b); i += 2 {
				c.pcm[ch] = append(c.pcm[ch], int16(binary.LittleEndian.Uint16(b[i:])))
			}
			c.mu.Unlock()
			continue
		}
		var m struct {
			WavName    string `json:"wav_name"`
			AudioFS    int    `json:"audio_fs"`
			IsSpeaking *bool  `json:"is_speaking"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.WavName != "" {
			ch = strings.TrimPrefix(m.WavName, "lianxin-")
			c.mu.Lock()
			c.rate[ch] = m.AudioFS
			c.mu.Unlock()
		}
		if m.IsSpeaking != nil && !*m.IsSpeaking {
			// the C++ server's last message when nothing was recognised
			_ = s.Send([]byte(`{"is_final": true, "text": "", "wav_name": "lianxin-` + ch + `"}`))
			return
		}
	}
}

func (c *captureASR) audio(ch string) ([]int16, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.pcm[ch]...), c.rate[ch]
}

// wideSeatAudio is the agent's speech at 16 kHz with a 5 kHz tone over it and after it
// (so the phone outlasts the call): the tone is what only a wideband path carries.
func wideSeatAudio(t *testing.T) string {
	t.Helper()
	speech, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)
	out := make([]int16, 2*len(speech)+16000*60)
	for i := range out {
		var s float64
		if j := i / 2; j+1 < len(speech) {
			// linear interpolation is enough for a test phone's voice
			s = float64(speech[j])
			if i%2 == 1 {
				s = (s + float64(speech[j+1])) / 2
			}
		}
		out[i] = int16(0.7*s + 3000*math.Sin(2*math.Pi*5000*float64(i)/16000))
	}
	p := filepath.Join(t.TempDir(), "seat16k.wav")
	require.NoError(t, testpeer.WriteWAV(p, out, 16000, 1))
	return p
}

// TestG722SeatEndToEnd: a baresip desk phone that prefers G.722 answers a sipp µ-law
// caller. The seat's leg is G.722, each side hears the other, the recording (8 kHz stereo)
// holds both, and the recogniser gets the agent at 16 kHz with the 5 kHz tone that no
// 8 kHz path carries, while the caller never hears that tone folded into the band.
func TestG722SeatEndToEnd(t *testing.T) {
	asr := newCaptureASR(t)
	g := startGateway(t, func(c *config.Config) {
		c.ASR.Default = "capture"
		c.ASR.Engines = map[string]map[string]any{"capture": {"type": "funasr", "url": asr.srv.URL("/")}}
	})
	s := g.seat(t, "seat-01", func(o *testpeer.BaresipOptions) {
		o.Codecs, o.SampleRate, o.Audio = "g722/16000/1,pcmu", 16000, wideSeatAudio(t)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)

	var recs []string
	require.Eventually(t, func() bool { recs = recordings(t, g.dataDir); return len(recs) == 1 }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 0 }, 15*time.Second, 50*time.Millisecond)
	id := strings.TrimSuffix(filepath.Base(recs[0]), ".wav")
	call, err := g.app.store.Call(ctx, id)
	require.NoError(t, err)
	codecs := map[string]string{}
	for _, l := range call.Legs {
		codecs[l.Leg] = l.Codec
	}
	require.Equal(t, map[string]string{"caller": "PCMU", "agent": "G722"}, codecs, s.Log())

	caller, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	agent, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)

	var heard []int16
	require.Eventually(t, func() bool {
		for _, f := range s.Received() {
			if pcm, rate, _, err := testpeer.ReadWAV(f); err == nil && rate == 16000 && len(pcm) > 16000 {
				heard = pcm
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "the seat's recording never finished:\n%s", s.Log())
	narrow := make([]int16, len(heard)/2)
	for i := range narrow {
		narrow[i] = heard[2*i] // the caller's G.711 has nothing above 4 kHz to fold
	}
	c, _ := audiotest.BestCorrelation(caller, narrow, 3*8000)
	require.Greater(t, c, 0.8, "the G.722 seat hears the µ-law caller")

	pcm, rate, ch, err := testpeer.ReadWAV(recs[0])
	require.NoError(t, err)
	require.Equal(t, 8000, rate, "recordings stay 8 kHz stereo")
	require.Equal(t, 2, ch)
	left, right := audiotest.Channel(pcm, 2, 0), audiotest.Channel(pcm, 2, 1)
	cl, _ := audiotest.BestCorrelation(caller, left, 3*8000)
	require.Greater(t, cl, 0.8, "left channel is the caller")
	cr, lag := audiotest.BestCorrelation(agent, right, 10*8000)
	require.Greater(t, cr, 0.6, "right channel is the agent")
	require.Less(t, audiotest.Tone(right[max(lag, 0):], 8000, 3000), 0.01, "the agent's 5 kHz is not folded to 3 kHz")

	wide, wideRate := asr.audio("agent")
	require.Equal(t, 16000, wideRate)
	require.Greater(t, len(wide), 16000*2)
	require.Greater(t, audiotest.Tone(wide, 16000, 5000), 0.05, "the recogniser hears the agent's 5 kHz")
	callerASR, _ := asr.audio("caller")
	require.Less(t, audiotest.Tone(callerASR, 16000, 5000), 0.001)
	t.Logf("seat heard caller %.3f; recording left %.3f right %.3f; recogniser 5 kHz share %.3f",
		c, cl, cr, audiotest.Tone(wide, 16000, 5000))
}

// With media.g722 off a wideband phone is offered G.711 and gets it.
func TestG722Off(t *testing.T) {
	off := false
	g := startGateway(t, func(c *config.Config) { c.Media.G722 = &off })
	g.seat(t, "seat-01", func(o *testpeer.BaresipOptions) { o.Codecs = "g722/16000/1,pcmu" })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := g.sippCall(ctx, t, "caller.xml")
	require.NoError(t, err, out)
	var recs []string
	require.Eventually(t, func() bool { recs = recordings(t, g.dataDir); return len(recs) == 1 }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 0 }, 15*time.Second, 50*time.Millisecond)
	call, err := g.app.store.Call(ctx, strings.TrimSuffix(filepath.Base(recs[0]), ".wav"))
	require.NoError(t, err)
	for _, l := range call.Legs {
		require.Equal(t, "PCMU", l.Codec, l.Leg)
	}
}

// TestReinviteChangesCallerCodec: a sipp caller speaks A-law, re-INVITEs to µ-law and goes
// on speaking. The re-INVITE is answered 200 (not 488) and the seat hears both halves.
func TestReinviteChangesCallerCodec(t *testing.T) {
	g := startGateway(t, nil)
	s := g.seat(t, "seat-01")
	caller, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	dir := t.TempDir()
	half := len(caller) / 2
	first, second := filepath.Join(dir, "first.wav"), filepath.Join(dir, "second.wav")
	require.NoError(t, testpeer.WriteWAV(first, caller[:half], 8000, 1))
	require.NoError(t, testpeer.WriteWAV(second, caller[half:], 8000, 1))
	dur, err := testpeer.WritePCMAPcap(first, filepath.Join(dir, "pcma.pcap"))
	require.NoError(t, err)
	_, err = testpeer.ContinuePCMUPcap(second, filepath.Join(dir, "pcmu.pcap"), half/160)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mp := testpeer.FreeUDPPorts(t, 4)
	out, err := testpeer.Sipp(ctx, t, dir, g.sipAddr, "-sf", fixture("sipp/caller_reinvite_codec.xml"), "-s", "12345",
		"-p", "0", "-mi", "127.0.0.1", "-mp", fmt.Sprint(mp), "-m", "1", "-d", fmt.Sprint((dur + 500*time.Millisecond).Milliseconds()))
	require.NoError(t, err, "the codec-changing re-INVITE is answered 200 and the call goes on:\n%s", out)

	var heard []int16
	require.Eventually(t, func() bool {
		for _, f := range s.Received() {
			if pcm, _, _, err := testpeer.ReadWAV(f); err == nil && len(pcm) > 8000 {
				heard = pcm
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "the seat's recording never finished:\n%s", s.Log())
	c1, _ := audiotest.BestCorrelation(caller[:half], heard, len(heard))
	c2, _ := audiotest.BestCorrelation(caller[half:], heard, len(heard))
	t.Logf("seat heard the A-law half %.3f, the µ-law half %.3f", c1, c2)
	require.Greater(t, c1, 0.8, "before the re-INVITE")
	require.Greater(t, c2, 0.8, "after the re-INVITE")
}
