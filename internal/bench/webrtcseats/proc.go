package main

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// freePort returns a port free for both UDP and TCP on loopback now.
func freePort() int {
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

func addr(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }

type procSample struct {
	cpu time.Duration
	rss int64
	at  time.Time
}

// sample reads a process's CPU time and resident memory from /proc.
func sample(pid int) (procSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	return procSample{cpu: time.Duration(ut+st) * 10 * time.Millisecond, rss: rss * int64(os.Getpagesize()), at: time.Now()}, nil
}

func waitHTTP(addr string, within time.Duration) error {
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

// scrape reads /metrics into name{labels} → value.
func scrape(addr string) (map[string]float64, error) {
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
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
				out[l[:i]] = v
			}
		}
	}
	return out, sc.Err()
}

func sum(m map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			s += v
		}
	}
	return s
}

// quantile reads a Prometheus histogram (all label sets summed) and interpolates q.
func quantile(m map[string]float64, name string, q float64) float64 {
	buckets := map[float64]float64{}
	for k, v := range m {
		if !strings.HasPrefix(k, name+"_bucket{") {
			continue
		}
		i := strings.Index(k, `le="`) + 4
		le, err := strconv.ParseFloat(k[i:i+strings.IndexByte(k[i:], '"')], 64)
		if err != nil {
			le = math.Inf(1)
		}
		buckets[le] += v
	}
	les := make([]float64, 0, len(buckets))
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

func report(n int, codec string, wall time.Duration, idle, from, to procSample, m map[string]float64, callErr error) {
	cpu := (to.cpu - from.cpu).Seconds()
	callMinutes := float64(n) * to.at.Sub(from.at).Minutes()
	answered := sum(m, "lianxin_webrtc_calls_answered_total")
	recv := sum(m, "lianxin_rtp_packets_received_total")
	lost := sum(m, "lianxin_rtp_packets_lost_total")
	fmt.Println("| browser seats | codec | answered | gateway CPU-s per call-minute | memory per call | packet loss | added relay delay, browser hop p50 / p99 | flow relay p99 |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %d | %s | %.0f | %.3f | %.0f KiB | %.3f%% | %.3f / %.3f ms | %.3f ms |\n", n, codec, answered, cpu/callMinutes,
		float64(to.rss-idle.rss)/float64(n)/1024, 100*lost/math.Max(recv+lost, 1),
		1000*quantile(m, "lianxin_webrtc_relay_seconds", 0.5), 1000*quantile(m, "lianxin_webrtc_relay_seconds", 0.99),
		1000*quantile(m, "lianxin_rtp_relay_delay_seconds", 0.99))
	fmt.Printf("(steady window %s; wall %s; peers open %.0f; sipp caller: %v)\n", to.at.Sub(from.at).Round(time.Second),
		wall.Round(time.Second), sum(m, "lianxin_webrtc_peers"), callErr)
}
