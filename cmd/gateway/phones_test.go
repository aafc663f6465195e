package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"lianxin/internal/audiotest"
	"lianxin/internal/testpeer"
	"lianxin/media"
	"lianxin/store"
	"lianxin/webrtcseat/webrtcseattest"
)

// A browser is seat-01's phone: headless Chromium with a fake microphone playing the
// agent's speech opens the agent page at /#token=…&autoanswer=1 and answers a sipp caller
// by itself. The caller's media is this test's own RTP socket (sipp only signals), so the
// test hears what the caller hears: the agent's voice, the keypad's digits, the agent again
// after the page reloads mid-call, silence when muted, and never the supervisor's whisper. A second Chromium, whose microphone plays a
// 1 kHz tone, is the supervisor on the wallboard: it listens (getStats shows bytes and an
// audio level) and whispers (the agent's page hears the tone). The agent hangs up from the
// page. The recording holds the caller (left) and the browser's microphone (right).
func TestBrowserSeatEndToEnd(t *testing.T) {
	if !webrtcseattest.LoopbackNamespace(t) {
		return
	}
	testpeer.Require(t, "sipp", "sox")
	if _, err := os.Stat(chromiumPath); err != nil {
		testpeer.Unavailable(t, "needs %s (Debian package chromium)", chromiumPath)
	}
	g := startGateway(t, nil)
	dir := t.TempDir()
	agentMic := filepath.Join(dir, "agent48k.wav")
	out, err := exec.Command("sox", "-D", fixture("audio/agent.wav"), "-r", "48000", "-b", "16", "-c", "1", agentMic).CombinedOutput()
	require.NoError(t, err, string(out))
	whisperMic := filepath.Join(dir, "tone48k.wav")
	require.NoError(t, testpeer.WriteWAV(whisperMic, sine(1000, 0.3, 48000, 60), 48000, 1))
	agentPage := chromium(t, agentMic)
	supPage := chromium(t, whisperMic)

	tok := g.login(t, "seat-01", "secret")
	require.NoError(t, chromedp.Do(agentPage, chromedp.Navigate("http://"+g.http+"/#token="+tok+"&autoanswer=1")))
	require.Eventually(t, func() bool { return g.seatPhone(t, tok) == "webrtc" }, 20*time.Second, 100*time.Millisecond,
		"GET /api/seats/seat-01 never said phone=webrtc")
	require.NoError(t, chromedp.Do(agentPage, chromedp.WaitVisible(`#phone-kind[data-i18n="phone_webrtc"]`)))
	admin := g.login(t, testAdmin, testAdminPassword)
	require.NoError(t, chromedp.Do(supPage, chromedp.Navigate("http://"+g.http+"/admin#token="+admin),
		chromedp.WaitVisible(`#conn.ok`)))

	caller := newRTPCaller(t)
	sippDone := g.sippMediaAt(t, caller.port())
	require.NoError(t, chromedp.Do(agentPage, chromedp.WaitVisible(`#phone[data-call="up"]`)))
	up := time.Now()
	callerPCM, err := testpeer.ReadWAV8k(fixture("audio/caller.wav"))
	require.NoError(t, err)
	caller.play(callerPCM)

	checkListen(t, supPage)
	require.NoError(t, chromedp.Do(agentPage, chromedp.Click(`#keypad .key[data-key="5"]`)))
	require.Eventually(t, func() bool { return strings.Contains(caller.digits(), "5") }, 5*time.Second, 20*time.Millisecond,
		"the keypad's digit never reached the caller")
	caller.waitPlayed(t)
	checkWhisper(t, agentPage, supPage, caller)

	muteAt := time.Since(up)
	require.NoError(t, chromedp.Do(agentPage, chromedp.Click(`#mute`), chromedp.WaitVisible(`#phone[data-muted="1"]`)))
	caller.quiet(t, "mute silences the agent on the caller's side")
	require.NoError(t, chromedp.Do(agentPage, chromedp.Click(`#mute`), chromedp.WaitNotPresent(`#phone[data-muted="1"]`)))
	checkReload(t, agentPage, caller)
	require.NoError(t, chromedp.Do(agentPage, chromedp.Click(`#hangup`)))
	select {
	case err := <-sippDone:
		require.NoError(t, err, "the caller got a BYE when the agent hung up")
	case <-time.After(20 * time.Second):
		t.Fatal("the page's hang-up never reached the caller")
	}
	checkBrowserRecording(t, g, callerPCM, muteAt, caller)
}

const chromiumPath = "/usr/bin/chromium"

// chromium starts headless Chromium whose microphone plays micWAV; every page it opens
// keeps its RTCPeerConnections in window.__pcs for the test to read getStats.
func chromium(t *testing.T, micWAV string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", micWAV),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	guard, cancelGuard := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(guard, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelGuard() })
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageProbe})
	require.NoError(t, err, "starting %s", chromiumPath)
	return ctx
}

// pageProbe keeps the page's peer connections and measures a tone in what it plays.
const pageProbe = `
window.__pcs = [];
const RealPC = window.RTCPeerConnection;
window.RTCPeerConnection = function (...a) { const pc = new RealPC(...a); window.__pcs.push(pc); return pc; };
window.RTCPeerConnection.prototype = RealPC.prototype;
// __inbound: bytes and audio level received by the newest connection
window.__inbound = async () => {
  const pc = window.__pcs[window.__pcs.length - 1];
  if (!pc) return { bytes: 0, level: 0 };
  let bytes = 0, level = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') { bytes = s.bytesReceived || 0; level = s.audioLevel || 0; }
  });
  return { bytes, level };
};
// __tone: how many dB the f Hz bin of the page's remote audio stands above the 1.37 f bin
window.__tone = (f) => new Promise((res) => {
  const el = document.getElementById('remote-audio');
  if (!el || !el.srcObject) { res(-100); return; }
  const ctx = new AudioContext();
  const an = ctx.createAnalyser();
  an.fftSize = 4096;
  ctx.createMediaStreamSource(el.srcObject).connect(an);
  setTimeout(() => {
    const d = new Float32Array(an.frequencyBinCount);
    an.getFloatFrequencyData(d);
    const hz = ctx.sampleRate / an.fftSize;
    res(d[Math.round(f / hz)] - d[Math.round(1.37 * f / hz)]);
    ctx.close();
  }, 1000);
});
`

// checkListen: the supervisor clicks the busy seat and receives audio.
func checkListen(t *testing.T, sup context.Context) {
	require.NoError(t, chromedp.Do(sup, chromedp.WaitVisible(`.seat[data-seat="seat-01"].state-talking`),
		chromedp.Click(`.seat[data-seat="seat-01"]`), chromedp.WaitVisible(`#monitor`)))
	var in struct{ Bytes, Level float64 }
	require.Eventually(t, func() bool {
		v, err := chromedp.Run(sup, chromedp.Evaluate[json.RawMessage](`window.__inbound()`, chromedp.EvalAwaitPromise))
		if err != nil || json.Unmarshal(v, &in) != nil {
			return false
		}
		return in.Bytes > 2000 && in.Level > 0.001
	}, 15*time.Second, 200*time.Millisecond, "the supervisor's page received no audio")
	t.Logf("supervisor listening: %.0f bytes, audio level %.3f", in.Bytes, in.Level)
}

// checkReload: the agent's page reloads mid-call; the caller waits in silence, not dropped,
// and hears the agent again once the page has taken the call up.
func checkReload(t *testing.T, agent context.Context, caller *rtpCaller) {
	require.NoError(t, chromedp.Do(agent, chromedp.Reload(), chromedp.WaitVisible(`#phone[data-call="up"]`)))
	caller.take()
	var back []int16
	require.Eventually(t, func() bool {
		back = append(back, caller.take()...)
		return len(back) >= 8000 && rmsOf(back[len(back)-8000:]) > 300
	}, 15*time.Second, 100*time.Millisecond, "the caller never heard the agent again after the page reloaded")
}

// checkWhisper: the agent's page hears the supervisor's tone; the caller never does.
func checkWhisper(t *testing.T, agent, sup context.Context, caller *rtpCaller) {
	require.NoError(t, chromedp.Do(sup, chromedp.Click(`#whisper`)))
	var db float64
	require.Eventually(t, func() bool {
		v, err := chromedp.Run(agent, chromedp.Evaluate[float64](`window.__tone(1000)`, chromedp.EvalAwaitPromise))
		db = v
		return err == nil && v > 20
	}, 15*time.Second, 100*time.Millisecond, "the agent never heard the whisper (1 kHz %.1f dB over its neighbour)", db)
	caller.take()
	var heard []int16
	require.Eventually(t, func() bool { heard = append(heard, caller.take()...); return len(heard) >= 2*8000 },
		10*time.Second, 100*time.Millisecond, "the caller stopped receiving audio during the whisper")
	require.Greater(t, rmsOf(heard), 20.0, "the caller hears the agent meanwhile (not silence)")
	require.Less(t, audiotest.Tone(heard, 8000, 1000), 0.05, "the whisper reached the caller")
	t.Logf("whisper: agent hears 1 kHz %.1f dB over its neighbour; caller's 1 kHz share %.4f", db, audiotest.Tone(heard, 8000, 1000))
	require.NoError(t, chromedp.Do(sup, chromedp.Click(`#stop-monitor`), chromedp.WaitNotVisible(`#monitor`)))
}

// checkBrowserRecording: the recording holds the caller (left) and the browser's
// microphone (right, up to the mute); the caller heard the agent; the audit has the
// supervisor's listen and whisper on this call.
func checkBrowserRecording(t *testing.T, g *testGateway, callerPCM []int16, muteAt time.Duration, caller *rtpCaller) {
	agentPCM, err := testpeer.ReadWAV8k(fixture("audio/agent.wav"))
	require.NoError(t, err)
	// the recording is complete once the call has ended
	require.Eventually(t, func() bool { return g.app.sip.ActiveCalls() == 0 }, 10*time.Second, 50*time.Millisecond)
	recs := recordings(t, g.dataDir)
	require.Len(t, recs, 1)
	pcm, rate, chans, err := testpeer.ReadWAV(recs[0])
	require.NoError(t, err)
	require.Equal(t, []int{8000, 2}, []int{rate, chans})
	if d := os.Getenv("KEEP_REC"); d != "" {
		_ = testpeer.WriteWAV(d, pcm, 8000, 2)
		_ = testpeer.WriteWAV(d+".caller.wav", caller.all(), 8000, 1)
	}
	left, right := audiotest.Channel(pcm, 2, 0), audiotest.Channel(pcm, 2, 1)
	right = right[:min(len(right), int((muteAt-500*time.Millisecond).Seconds()*8000))]
	cl, _ := audiotest.BestCorrelation(callerPCM, left, 3*8000)
	cr, _ := audiotest.BestCorrelation(agentPCM, right, 12*8000)
	ch, _ := audiotest.BestCorrelation(agentPCM, caller.all(), 12*8000)
	t.Logf("recording: left(caller) %.3f right(browser mic) %.3f; the caller heard the agent %.3f", cl, cr, ch)
	require.GreaterOrEqual(t, cl, 0.9, "the recording's left channel is the caller")
	require.GreaterOrEqual(t, cr, 0.9, "the recording's right channel is the browser's microphone")
	require.GreaterOrEqual(t, ch, 0.8, "the caller heard the browser's microphone")

	calls, err := g.app.store.Calls(context.Background(), store.CallFilter{Seat: "seat-01", Limit: 1})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	evs, err := g.app.store.Events(context.Background(), store.EventFilter{CallID: calls[0].ID})
	require.NoError(t, err)
	var audit []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "monitor.") {
			audit = append(audit, ev.Type+" "+string(ev.Data))
		}
	}
	require.Len(t, audit, 4, "listen and whisper, each started and stopped: %v", audit)
	require.Contains(t, audit[0], `"supervisor":"`+testAdmin+`"`)
	require.Contains(t, audit[0], `"mode":"listen"`)
	require.Contains(t, strings.Join(audit, " "), `"mode":"whisper"`)
}

func (g *testGateway) seatPhone(t *testing.T, tok string) string {
	code, body := g.api(t, "GET", "/api/seats/seat-01", tok, nil)
	if code != http.StatusOK {
		return ""
	}
	var res struct{ Phone string }
	_ = json.Unmarshal([]byte(body), &res)
	return res.Phone
}

// sippMediaAt places one call with sipp that announces port (this test's socket) as the
// caller's media and ends when the gateway sends BYE; the channel gets sipp's result.
func (g *testGateway) sippMediaAt(t *testing.T, port int) <-chan error {
	dir := t.TempDir()
	b, err := os.ReadFile(fixture("sipp/caller_wait_bye.xml"))
	require.NoError(t, err)
	sc := strings.Replace(string(b), `<nop><action><exec play_pcap_audio="caller.pcap"/></action></nop>`, "", 1)
	sc = strings.Replace(sc, "c=IN IP[media_ip_type] [media_ip]\n", "c=IN IP4 127.0.0.1\n", 1)
	sc = strings.Replace(sc, "m=audio [media_port] RTP/AVP 0 101", "m=audio [mport] RTP/AVP 0 101", 1)
	sc = strings.Replace(sc, `<recv request="BYE" timeout="60000"/>`, `<recv request="BYE" timeout="120000"/>`, 1)
	require.Contains(t, sc, "[mport]")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "caller.xml"), []byte(sc), 0o644))
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		mp := testpeer.FreeUDPPorts(t, 4)
		out, err := testpeer.Sipp(ctx, t, dir, g.sipAddr, "-sf", "caller.xml", "-s", "12345", "-p", "0",
			"-mi", "127.0.0.1", "-mp", fmt.Sprint(mp), "-m", "1", "-key", "mport", fmt.Sprint(port))
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
		done <- err
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return done
}

// rtpCaller is the caller's media: it answers the gateway's RTP source with speech (then
// silence, so the call stays alive) and records what it hears and the digits it gets.
type rtpCaller struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	peer   netip.AddrPort
	heard  []int16
	recent []int16
	dtmf   string
	played chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newRTPCaller(t *testing.T) *rtpCaller {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	c := &rtpCaller{conn: conn, played: make(chan struct{}), stop: make(chan struct{})}
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.read() }()
	t.Cleanup(func() { close(c.stop); conn.Close(); c.wg.Wait() })
	return c
}

func (c *rtpCaller) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

func (c *rtpCaller) read() {
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	var p rtp.Packet
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.mu.Lock()
		c.peer = from
		switch p.PayloadType {
		case 0:
			k := media.PCMU().Decode(pcm, p.Payload)
			c.heard = append(c.heard, pcm[:k]...)
			c.recent = append(c.recent, pcm[:k]...)
		case 101:
			if ev, err := media.ParseDTMF(p.Payload); err == nil && ev.End && ev.Digit != 0 &&
				(c.dtmf == "" || rune(c.dtmf[len(c.dtmf)-1]) != ev.Digit) {
				c.dtmf += string(ev.Digit)
			}
		}
		c.mu.Unlock()
	}
}

// play sends pcm, then silence, every 20 ms to whoever sends to the caller.
func (c *rtpCaller) play(pcm []int16) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		h := rtp.Header{Version: 2, SSRC: 0x5eed}
		payload := make([]byte, media.FrameSamples)
		// paced by the wall clock, not a ticker: a busy machine delays packets, it must not
		// drop them, or the caller's speech arrives slower than real time
		start := time.Now()
		for i := 0; ; i += media.FrameSamples {
			select {
			case <-c.stop:
				return
			case <-time.After(time.Until(start.Add(time.Duration(i/media.FrameSamples) * media.FrameDuration))):
			}
			frame := make([]int16, media.FrameSamples)
			if i+media.FrameSamples <= len(pcm) {
				copy(frame, pcm[i:])
			} else if i/media.FrameSamples == len(pcm)/media.FrameSamples {
				close(c.played)
			}
			media.PCMU().Encode(payload, frame)
			h.SequenceNumber++
			h.Timestamp += media.FrameSamples
			b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
			c.mu.Lock()
			dest := c.peer
			c.mu.Unlock()
			if dest.IsValid() {
				_, _ = c.conn.WriteToUDPAddrPort(b, dest)
			}
		}
	}()
}

func (c *rtpCaller) waitPlayed(t *testing.T) {
	select {
	case <-c.played:
	case <-time.After(30 * time.Second):
		t.Fatal("the caller's speech never finished playing")
	}
}

func (c *rtpCaller) digits() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dtmf
}

// take returns what the caller heard since the last take.
func (c *rtpCaller) take() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.recent
	c.recent = nil
	return r
}

func (c *rtpCaller) all() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.heard...)
}

// quiet waits until a full second of what the caller hears is silent.
func (c *rtpCaller) quiet(t *testing.T, what string) {
	var acc []int16
	var rms float64
	require.Eventually(t, func() bool {
		acc = append(acc, c.take()...)
		if len(acc) < 8000 {
			return false
		}
		acc = acc[len(acc)-8000:]
		rms = rmsOf(acc)
		return rms < 30
	}, 10*time.Second, 100*time.Millisecond, "%s: RMS %.0f", what, rms)
}

func rmsOf(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(x))))
}

// sine is secs seconds of a freq Hz sine at amplitude amp (0…1).
func sine(freq, amp float64, rate, secs int) []int16 {
	out := make([]int16, rate*secs)
	for i := range out {
		out[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}
