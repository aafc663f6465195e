package main

import (
	"fmt"
	"math"
	"time"

	"lianxin/internal/bench/benchkit"
)

func addr(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }

func report(n int, codec string, wall time.Duration, idle, from, to benchkit.ProcSample, m map[string]float64, callErr error) {
	cpu := (to.CPU - from.CPU).Seconds()
	callMinutes := float64(n) * to.At.Sub(from.At).Minutes()
	answered := benchkit.Sum(m, "lianxin_webrtc_calls_answered_total")
	recv := benchkit.Sum(m, "lianxin_rtp_packets_received_total")
	lost := benchkit.Sum(m, "lianxin_rtp_packets_lost_total")
	fmt.Println("| browser seats | codec | answered | gateway CPU-s per call-minute | memory per call | packet loss | added relay delay, browser hop p50 / p99 | flow relay p99 |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %d | %s | %.0f | %.3f | %.0f KiB | %.3f%% | %.3f / %.3f ms | %.3f ms |\n", n, codec, answered, cpu/callMinutes,
		float64(to.RSS-idle.RSS)/float64(n)/1024, 100*lost/math.Max(recv+lost, 1),
		1000*benchkit.Quantile(m, "lianxin_webrtc_relay_seconds", 0.5), 1000*benchkit.Quantile(m, "lianxin_webrtc_relay_seconds", 0.99),
		1000*benchkit.Quantile(m, "lianxin_rtp_relay_delay_seconds", 0.99))
	fmt.Printf("(steady window %s; wall %s; peers open %.0f; sipp caller: %v)\n", to.At.Sub(from.At).Round(time.Second),
		wall.Round(time.Second), benchkit.Sum(m, "lianxin_webrtc_peers"), callErr)
}
