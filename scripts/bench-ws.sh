#!/usr/bin/env bash
# bench-ws.sh — WebSocket fan-out of the agent-screen desk: 1,000 subscribers on one desk,
# publish -> client read latency (p50/p99/max) and server memory per subscriber.
# Two shapes: "admin" (every screen sees every event: the worst case) and "seats" (screens
# spread over 60 seats, as agent screens are). Not a timed test: it prints figures.
# Knobs (env): WSBENCH_SUBS (1000), WSBENCH_EVENTS (300), WSBENCH_INTERVAL_US (10000),
# WSBENCH_MODES ("admin seats").
set -euo pipefail
cd "$(dirname "$0")/.."
export WSBENCH_SUBS=${WSBENCH_SUBS:-1000} WSBENCH_EVENTS=${WSBENCH_EVENTS:-300}
export WSBENCH_INTERVAL_US=${WSBENCH_INTERVAL_US:-10000}
# the server and the client process each hold one socket per subscriber
ulimit -n "$(( WSBENCH_SUBS * 2 + 512 ))" 2>/dev/null || true
echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); subs=$WSBENCH_SUBS events=$WSBENCH_EVENTS interval=${WSBENCH_INTERVAL_US}us"
for mode in ${WSBENCH_MODES:-admin seats}; do
  echo "mode=$mode"
  WSBENCH_MODE=$mode go test -run '^$' -bench 'WSFanout' -benchtime 1x -count 1 ./desk/ | grep -E '^Benchmark|FAIL|ok'
done
