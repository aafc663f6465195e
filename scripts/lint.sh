#!/usr/bin/env bash
# lint.sh — runs golangci-lint (pinned; built into bin/ on first use) with .golangci.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v2.15.0
bin=bin/golangci-lint-$version
if [ ! -x "$bin" ]; then
  echo "building golangci-lint $version (once)…" >&2
  GOBIN=$PWD/bin go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
  mv bin/golangci-lint "$bin"
fi
"$bin" run ./...
