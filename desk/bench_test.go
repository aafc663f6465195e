package desk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// The fan-out benchmark: WSBENCH_SUBS WebSocket screens on one desk; WSBENCH_EVENTS stored
// events published one per WSBENCH_INTERVAL_US. WSBENCH_MODE=admin (default) gives every
// screen an admin token, so every event reaches every screen (the worst case);
// WSBENCH_MODE=seats spreads the screens over 60 seat tokens and the events over 60 seats.
// Reported: publish -> client read latency (p50, p99, max), server memory per subscriber
// (heap + stacks), screens dropped as slow. The screens run in a child process (this test
// binary re-executed) so that the server's memory is measured alone.
//
//	scripts/bench-ws.sh   (go test -run '^$' -bench WSFanout -benchtime 1x ./desk/)

const (
	benchClientEnv = "LIANXIN_WSBENCH_CLIENT"
	benchSeats     = 60
	typeBenchEnd   = "bench.end"
)

func TestMain(m *testing.M) {
	if u := os.Getenv(benchClientEnv); u != "" {
		os.Exit(benchClients(strings.Split(u, " ")))
	}
	os.Exit(m.Run())
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

type benchResult struct {
	Received int     `json:"received"`
	Dropped  int     `json:"dropped"`
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
}

// sentNS finds "sent_ns":N in an encoded event without decoding all of it, to keep the
// client's CPU share (it runs on the same machine) small.
func sentNS(b []byte) int64 {
	const key = `"sent_ns":`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	b = b[i+len(key):]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseInt(string(b[:j]), 10, 64)
	return n
}

// benchClients is the child process: it connects the screens (screen i on urls[i%len]),
// prints "ready", reads until each screen sees bench.end (or is dropped), then prints a
// benchResult.
func benchClients(urls []string) int {
	subs := envInt("WSBENCH_SUBS", 1000)
	conns := make([]*websocket.Conn, subs)
	d := websocket.Dialer{HandshakeTimeout: time.Minute}
	for i := range conns {
		c, _, err := d.Dial(urls[i%len(urls)], nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			return 1
		}
		if _, _, err := c.ReadMessage(); err != nil { // hello: subscribed
			fmt.Fprintln(os.Stderr, "hello:", err)
			return 1
		}
		conns[i] = c
	}
	fmt.Println("ready")
	lat := make([][]time.Duration, subs)
	var dropped atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			defer c.Close()
			for {
				_ = c.SetReadDeadline(time.Now().Add(time.Minute))
				_, b, err := c.ReadMessage()
				if err != nil {
					dropped.Add(1)
					return
				}
				now := time.Now().UnixNano()
				if sent := sentNS(b); sent > 0 {
					lat[i] = append(lat[i], time.Duration(now-sent))
				} else if bytes.Contains(b, []byte(typeBenchEnd)) {
					return
				}
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := benchResult{Received: len(all), Dropped: int(dropped.Load())}
	if n := len(all); n > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r.P50MS, r.P99MS, r.MaxMS = ms(all[n/2]), ms(all[n*99/100]), ms(all[n-1])
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

func heapAndStacks() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func BenchmarkWSFanout(b *testing.B) {
	subs, events := envInt("WSBENCH_SUBS", 1000), envInt("WSBENCH_EVENTS", 500)
	interval := time.Duration(envInt("WSBENCH_INTERVAL_US", 10000)) * time.Microsecond
	seatMode := os.Getenv("WSBENCH_MODE") == "seats"
	e := newEnv(b, Config{}, Options{Now: time.Now})
	base := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws?"
	var urls []string
	for k := range benchSeats {
		user, pass := "admin", "adminpw"
		if seatMode {
			user, pass = fmt.Sprintf("seat-%02d", k+1), seatPass
		}
		tok, _, err := e.desk.auth.login(user, pass)
		require.NoError(b, err)
		urls = append(urls, base+url.Values{"token": {tok}}.Encode())
		if !seatMode {
			break
		}
	}
	before := heapAndStacks()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchClientEnv+"="+strings.Join(urls, " "))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	lines := bufio.NewScanner(out)
	require.True(b, lines.Scan(), "client process did not get ready")
	require.Equal(b, "ready", lines.Text())
	require.Equal(b, subs, e.desk.hub.count())
	perSub := float64(heapAndStacks()-before) / float64(subs)

	// one paced round per benchmark run whatever b.N is
	b.ResetTimer()
	tick := time.NewTicker(interval)
	for i := range events {
		seat := fmt.Sprintf("seat-%02d", i%benchSeats+1)
		_, err := e.desk.Publish(context.Background(), Event{Type: TypeDTMF, Seat: seat, CallID: "bench",
			Data: map[string]any{"digit": strconv.Itoa(i % 10), "sent_ns": time.Now().UnixNano()}})
		require.NoError(b, err)
		<-tick.C
	}
	tick.Stop()
	for k := range benchSeats {
		_, err := e.desk.Publish(context.Background(), Event{Type: typeBenchEnd, Seat: fmt.Sprintf("seat-%02d", k+1)})
		require.NoError(b, err)
	}
	b.StopTimer()
	require.True(b, lines.Scan(), "client process gave no result")
	var r benchResult
	require.NoError(b, json.Unmarshal(lines.Bytes(), &r))
	require.NoError(b, cmd.Wait())
	b.ReportMetric(r.P50MS, "p50-ms")
	b.ReportMetric(r.P99MS, "p99-ms")
	b.ReportMetric(r.MaxMS, "max-ms")
	b.ReportMetric(perSub, "server-bytes/sub")
	b.ReportMetric(float64(r.Dropped), "dropped-subs")
	b.ReportMetric(float64(r.Received), "deliveries")
}
