# `make run` builds and starts the gateway on built-in defaults; `make test` runs every test.
# Both install the Debian packages they need when missing (as root) or say which are missing.
GO ?= go
BIN := bin/gateway

.PHONY: lint run build test deps-run deps-test bench bench-calls bench-asr bench-dispatch bench-ws fuzz

build:
	$(GO) build -o $(BIN) ./cmd/gateway

run: deps-run build
	./$(BIN) serve

# Unit tests (every package but cmd/gateway's end-to-end tests) run with the race detector;
# under make test a missing peer fails a test instead of skipping it.
UNIT = $(shell $(GO) list ./... | grep -v '/cmd/gateway$$')

test: deps-test
	$(GO) vet ./...
	LIANXIN_REQUIRE_PEERS=1 $(GO) test -race -count=1 -timeout 30m $(UNIT)
	LIANXIN_REQUIRE_PEERS=1 $(GO) test -count=1 -timeout 30m ./cmd/gateway

# fuzz runs every fuzz target of the project (each func Fuzz… in a _test.go) for FUZZTIME
# each: go test fuzzes one target per run. New corpus entries that fail land in the
# package's testdata/fuzz/ and fail make test until fixed.
FUZZTIME ?= 30s

fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v -e '^./third_party/' -e '/vendor/' | sort); do \
		dir=$$(dirname $$f); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== $$dir $$name ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$dir; \
		done; \
	done

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

bench: bench-calls bench-asr bench-dispatch bench-ws

bench-calls: deps-test build
	scripts/bench-calls.sh

bench-asr: deps-test build
	scripts/bench-asr.sh

bench-dispatch: build
	scripts/bench-dispatch.sh

bench-ws: build
	scripts/bench-ws.sh

# lint builds the pinned golangci-lint into bin/ once (from the Go module proxy), then runs it.
lint:
	@scripts/lint.sh
