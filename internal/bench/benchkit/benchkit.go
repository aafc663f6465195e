// Package benchkit holds what the call benchmarks share: free loopback ports, sipp's seat
// list and audio, the gateway process's CPU and memory, and its /metrics.
package benchkit

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zaf/g711"

	"lianxin/internal/testpeer"
)

// FreePort returns a port free for both UDP and TCP on loopback now.
func FreePort() int {
	for {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		c.Close()
		if err == nil {
			l.Close()
			return p
		}
	}
}

// Prepare writes the seat list (password for each seat) and, with WriteAudio, the
// caller's and seats' speech.
func Prepare(root, dir string, n int, password string) error {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "seat-%02d;[authentication username=seat-%02d password=%s]\n", i, i, password)
	}
	if err := os.WriteFile(filepath.Join(dir, "seats.csv"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return WriteAudio(root, dir)
}

// WriteAudio writes the caller's and the seats' speech (testdata/audio) into dir as raw
// µ-law, caller.ulaw and seat.ulaw, which sipp's rtp_stream loops for a call's length.
func WriteAudio(root, dir string) error {
	for name, src := range map[string]string{"caller.ulaw": "caller.wav", "seat.ulaw": "agent.wav"} {
		pcm, err := testpeer.ReadWAV8k(filepath.Join(root, "testdata/audio", src))
		if err != nil {
			return err
		}
		lin := make([]byte, 2*len(pcm))
		for i, v := range pcm {
			lin[2*i], lin[2*i+1] = byte(v), byte(uint16(v)>>8)
		}
		if err := os.WriteFile(filepath.Join(dir, name), g711.EncodeUlaw(lin), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ProcSample is a process's CPU time and resident memory at a moment.
type ProcSample struct {
	CPU time.Duration
	RSS int64
	At  time.Time
}

// Sample reads pid's CPU time and RSS from /proc.
func Sample(pid int) (ProcSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	return ProcSample{CPU: time.Duration(ut+st) * 10 * time.Millisecond, RSS: rss * int64(os.Getpagesize()), At: time.Now()}, nil
}

// WaitHTTP waits for the gateway's /healthz to answer.
func WaitHTTP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("gateway did not come up on %s", addr)
}

// Scrape reads /metrics into name{labels} → value.
func Scrape(addr string) (map[string]float64, error) {
	r, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out, sc.Err()
}

// Sum adds the values of every series whose name{labels} starts with prefix.
func Sum(m map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			s += v
		}
	}
	return s
}

// Quantile reads a Prometheus histogram (all label sets summed) and interpolates q.
func Quantile(m map[string]float64, name string, q float64) float64 {
	buckets := map[float64]float64{}
	for k, v := range m {
		if !strings.HasPrefix(k, name+"_bucket{") {
			continue
		}
		i := strings.Index(k, `le="`)
		le, err := strconv.ParseFloat(strings.TrimSuffix(k[i+4:strings.Index(k[i+4:], `"`)+i+4], `"`), 64)
		if err != nil {
			le = math.Inf(1)
		}
		buckets[le] += v
	}
	var les []float64
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 {
		return math.NaN()
	}
	total := buckets[les[len(les)-1]]
	prevLE, prevN := 0.0, 0.0
	for _, le := range les {
		if buckets[le] >= q*total {
			if math.IsInf(le, 1) {
				return prevLE
			}
			return prevLE + (le-prevLE)*(q*total-prevN)/math.Max(buckets[le]-prevN, 1)
		}
		prevLE, prevN = le, buckets[le]
	}
	return prevLE
}
