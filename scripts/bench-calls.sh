#!/usr/bin/env bash
# Call-path benchmark: N concurrent bridged, recorded calls (sipp callers playing speech,
# sipp seats echoing it back). Usage: scripts/bench-calls.sh [N] [HOLD]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
go run ./internal/bench/calls -gateway bin/gateway -n "${1:-500}" -hold "${2:-60s}"
