package media

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// The real-time load benchmark runs the peers (phones) in a child process, so that the
// parent's CPU is the gateway's alone. The child is this test binary re-executed with
// loadPeersEnv set; it speaks a line protocol on stdin/stdout:
//
//	parent → child: leg addresses, one call per line "legA legB", then "ready"
//	child → parent: peer addresses "peerA peerB" per call
//	parent → child: "go SECONDS" once the bridges are up
//	child → parent: one JSON loadResult
const loadPeersEnv = "MEDIA_LOAD_PEERS"

type loadResult struct {
	Sent, Received int
	DelaysUS       []int64 // one-way peer→gateway→peer delay of a sample of packets
}

// TestLoadPeers is the child process: it is skipped in normal runs.
func TestLoadPeers(t *testing.T) {
	if os.Getenv(loadPeersEnv) == "" {
		t.Skip("helper process of BenchmarkRealtimeCalls")
	}
	in := bufio.NewScanner(os.Stdin)
	var legs [][2]netip.AddrPort
	var secs int
	for in.Scan() && in.Text() != "ready" {
		f := strings.Fields(in.Text())
		legs = append(legs, [2]netip.AddrPort{netip.MustParseAddrPort(f[0]), netip.MustParseAddrPort(f[1])})
	}
	peers := make([][2]*peer, len(legs))
	for i := range legs {
		peers[i] = [2]*peer{newPeer(t), newPeer(t)}
		fmt.Printf("%s %s\n", peers[i][0].addr(), peers[i][1].addr())
	}
	if in.Scan() {
		_, _ = fmt.Sscanf(in.Text(), "go %d", &secs)
	}
	res := runLoadPeers(t, legs, peers, time.Duration(secs)*time.Second)
	require.NoError(t, json.NewEncoder(os.Stdout).Encode(res))
}

func runLoadPeers(t *testing.T, legs [][2]netip.AddrPort, peers [][2]*peer, d time.Duration) loadResult {
	var mu sync.Mutex
	var res loadResult
	recvBy := map[*peer]int{}
	sentBy := map[*peer]int{}
	stop := time.Now().Add(d + 500*time.Millisecond)
	var wg sync.WaitGroup
	for _, pp := range peers {
		for _, p := range pp {
			wg.Go(func() {
				buf := make([]byte, 2048)
				var n int
				var delays []int64
				_ = p.conn.SetReadDeadline(stop)
				for {
					m, _, err := p.conn.ReadFromUDPAddrPort(buf)
					if err != nil {
						break
					}
					n++
					if m >= 20 && n%10 == 0 {
						sent := int64(binary.BigEndian.Uint64(buf[12:]))
						delays = append(delays, (time.Now().UnixNano()-sent)/1000)
					}
				}
				mu.Lock()
				recvBy[p] = n
				res.Received += n
				res.DelaysUS = append(res.DelaysUS, delays...)
				mu.Unlock()
			})
		}
	}
	pkts := make([][2][]byte, len(peers))
	for i := range pkts {
		for j := range 2 {
			pkts[i][j] = rtpPacket(0, false, uint16(i), uint32(i), uint32(i*2+j), make([]byte, FrameSamples))
		}
	}
	tick := time.NewTicker(FrameDuration)
	end := time.Now().Add(d)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		for i, pp := range peers {
			for j, p := range pp {
				pkt := pkts[i][j]
				advance(pkt)
				binary.BigEndian.PutUint64(pkt[12:], uint64(time.Now().UnixNano()))
				if _, err := p.conn.WriteToUDPAddrPort(pkt, legs[i][j]); err == nil {
					res.Sent++
					sentBy[p]++
				} else {
					fmt.Fprintln(os.Stderr, "send error", err)
				}
			}
		}
	}
	tick.Stop()
	wg.Wait()
	// Per-call accounting on stderr: loss shows which calls lost, an excess would show a
	// duplicating relay.
	for i, pp := range peers {
		if sentBy[pp[0]] != recvBy[pp[1]] || sentBy[pp[1]] != recvBy[pp[0]] {
			fmt.Fprintf(os.Stderr, "call %d: A sent %d, B got %d; B sent %d, A got %d\n",
				i, sentBy[pp[0]], recvBy[pp[1]], sentBy[pp[1]], recvBy[pp[0]])
		}
	}
	return res
}

// BenchmarkRealtimeCalls runs N calls in real time (50 packets/s each way, PCMU both legs,
// taps into fan-outs and one stereo recording per call, one shared real Clock) for
// MEDIA_LOAD_SECONDS (default 10) per op, with the peers in a child process. It reports the
// gateway process's CPU per call-minute, loss and the p99 one-way delay from peer to peer
// through the relay (loopback included).
//
//	go test -run '^$' -bench RealtimeCalls -benchtime 1x ./media
func BenchmarkRealtimeCalls(b *testing.B) {
	secs := 10
	if s, err := strconv.Atoi(os.Getenv("MEDIA_LOAD_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	for _, n := range []int{100, 500, 1000} {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			for range b.N {
				realtimeRun(b, n, secs)
			}
		})
	}
}

func realtimeRun(b *testing.B, n, secs int) {
	clock := NewClock()
	defer clock.Close()
	m := NewMetrics(nil)
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadPeers$", "-test.v=false")
	cmd.Env = append(os.Environ(), loadPeersEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	defer func() { _ = cmd.Wait() }()

	type call struct{ a, b *Leg }
	calls := make([]call, n)
	for i := range calls {
		calls[i] = call{newLoopbackLeg(b, LegOptions{Name: "caller", Kind: "caller", Metrics: m}),
			newLoopbackLeg(b, LegOptions{Name: "agent", Kind: "agent", Metrics: m})}
		fmt.Fprintf(stdin, "%s %s\n", calls[i].a.LocalAddr(), calls[i].b.LocalAddr())
	}
	fmt.Fprintln(stdin, "ready")
	out := bufio.NewScanner(stdout)
	out.Buffer(nil, 64<<20) // the result line lists thousands of delays
	for i := range calls {
		require.True(b, out.Scan(), "peer addresses from the child")
		f := strings.Fields(out.Text())
		require.Len(b, f, 2)
		require.NoError(b, calls[i].a.SetRemote(netip.MustParseAddrPort(f[0]), PCMU(), 101))
		require.NoError(b, calls[i].b.SetRemote(netip.MustParseAddrPort(f[1]), PCMU(), 101))
		rec, err := NewRecorder(filepath.Join(dir, fmt.Sprintf("call-%d.wav", i)), RecorderOptions{})
		require.NoError(b, err)
		fa, fb := NewFanout("caller", FanoutOptions{Metrics: m}), NewFanout("agent", FanoutOptions{Metrics: m})
		fa.Add(rec.Caller(), 0)
		fb.Add(rec.Agent(), 0)
		br := NewBridge(calls[i].a, calls[i].b, BridgeOptions{Clock: clock, TapA: fa, TapB: fb})
		require.NoError(b, br.Start())
		b.Cleanup(func() { _ = br.Close(); _ = fa.Close(); _ = fb.Close(); _ = rec.Close() })
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	fmt.Fprintf(stdin, "go %d\n", secs)
	require.True(b, out.Scan(), "result from the child")
	cpu := cpuTime() - cpu0
	var res loadResult
	require.NoError(b, json.Unmarshal(out.Bytes(), &res))
	slices.Sort(res.DelaysUS)
	callMinutes := float64(n) * float64(secs) / 60
	b.ReportMetric(cpu.Seconds()/callMinutes, "cpu-s/call-min")
	b.ReportMetric(100*float64(res.Sent-res.Received)/float64(max(res.Sent, 1)), "loss-%")
	b.ReportMetric(histQuantile(b, m.relayDelay, 0.99)*1e6, "relay-p99-≤µs")
	if len(res.DelaysUS) > 0 {
		b.ReportMetric(float64(res.DelaysUS[len(res.DelaysUS)*99/100]), "p99-delay-µs")
		b.ReportMetric(float64(res.DelaysUS[len(res.DelaysUS)/2]), "p50-delay-µs")
	}
}

// histQuantile is the upper bound of the bucket holding quantile q of h.
func histQuantile(b *testing.B, h prometheus.Histogram, q float64) float64 {
	var pb dto.Metric
	require.NoError(b, h.Write(&pb))
	hist := pb.GetHistogram()
	want := q * float64(hist.GetSampleCount())
	for _, bk := range hist.GetBucket() {
		if float64(bk.GetCumulativeCount()) >= want {
			return bk.GetUpperBound()
		}
	}
	return math.Inf(1)
}
