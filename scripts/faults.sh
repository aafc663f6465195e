#!/usr/bin/env bash
# faults.sh [ROUNDS] — the fault suite, long form: every fault test of make test (kill -9
# mid-call and restart, a second signal with a full queue, the recogniser killed mid-call,
# a full recording disk, a store refusing writes, a caller vanishing from the queue with or
# without RTP, early media aimed at a third party, a receiver of hand-offs that is down)
# run ROUNDS times (default 10) with the race detector, so a fault that only bites now and
# then shows up.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
export LIANXIN_REQUIRE_PEERS=1
go test -race -count="$rounds" -run 'TestKilledMidCall|TestStopWithQueued|TestRecogniserKilled|TestDrain|TestQueuedCallersAreProbed' ./cmd/gateway
go test -race -count="$rounds" -run 'TestFullDisk|TestEarlyMedia|TestSilentQueued|TestQueuedCallerWithoutRTP|TestProbeMiss|TestCloseEndsCalls|TestDeadMedia|TestDelivery' ./callflow
go test -race -count="$rounds" -run 'TestEventsSurviveAFailingStore' ./desk
go test -race -count="$rounds" -run 'TestOpenCalls' ./store
echo "faults: $rounds rounds passed"
