#!/usr/bin/env bash
# Dispatch bench (not a test): accuracy per language on held-out examples that training never
# sees (top-1 counts the label or the accepted alt, top-3 the label), the worst confused pairs,
# the same for each algorithm with and without the taxonomy's boosts, and the time per
# classification. Run from anywhere: scripts/bench-dispatch.sh (or make bench-dispatch).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/gateway}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/gateway
T=$(mktemp -d /tmp/bench-dispatch.XXXX)
trap 'rm -rf "$T"' EXIT
sed '/^rules:/,$d; s/^keyword_boost: .*/keyword_boost: 0/' dispatch/taxonomy.yaml >"$T/no-boost.yaml"

echo "## built-in model (blend of logistic regression and naive Bayes, with boosts)"
echo "### testdata/dispatch/heldout"
"$BIN" dispatch eval --data testdata/dispatch/heldout --worst 8
echo "### testdata/dispatch/fresh (written after tuning)"
"$BIN" dispatch eval --data testdata/dispatch/fresh --worst 3
echo "### testdata/dispatch/dev (tie-break probes, used while tuning the rules)"
"$BIN" dispatch eval --data testdata/dispatch/dev --worst 3

for algo in lr nb lr+nb; do
	for tax in dispatch/taxonomy.yaml "$T/no-boost.yaml"; do
		"$BIN" dispatch train --algo "$algo" --data testdata/dispatch/train --taxonomy "$tax" --out "$T/m" >/dev/null
		echo
		echo "## $algo, $([ "$tax" = dispatch/taxonomy.yaml ] && echo "with boosts" || echo "no boosts"), heldout"
		"$BIN" dispatch eval --data testdata/dispatch/heldout --model "$T/m" --taxonomy "$tax" --worst 0 | grep '^|'
	done
done
echo
echo "## time per classification (Go benchmark: top 3 with evidence, built-in model)"
go test -run '^$' -bench 'BenchmarkRank' -benchtime 3000x ./dispatch/ | grep -E '^(Benchmark|cpu)'
