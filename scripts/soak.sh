#!/usr/bin/env bash
# Soak: 120 callers on 60 seats (2× nominal) with real sipp peers for MINUTES (default 30),
# calls of random length, seats going away and coming back, an admin screen connected.
# Prints calls lost, records missing, events missing, recordings unplayable (all must be 0)
# and memory over time; exits 1 when any is not. Usage: scripts/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
make -s build
go run ./internal/bench/soak -gateway bin/gateway -minutes "${1:-30}"
