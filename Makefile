# `make run` builds and starts the gateway on built-in defaults; `make test` runs every test.
# Both install the Debian packages they need when missing (as root) or say which are missing.
GO ?= go
BIN := bin/gateway

.PHONY: run build test deps-run deps-test bench bench-calls bench-asr bench-dispatch bench-ws

build:
	$(GO) build -o $(BIN) ./cmd/gateway

run: deps-run build
	./$(BIN) serve

test: deps-test
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 45m ./...

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
