# Safesignal: `make run` serves on http://localhost:8080 with the embedded
# defaults; `make test` runs every test against real NATS JetStream (embedded)
# and real PostgreSQL.
GO      ?= go
BIN     := bin/safesignal
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build run test test-short postgres chromium lint fmt bench bench-quick clean

all: lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/safesignal

run: build
	./$(BIN) serve

# The tests use the real PostgreSQL on 127.0.0.1:5432 (or
# $SAFESIGNAL_TEST_DATABASE_URL): started, or installed from Debian's
# packages, when it is not running. The web UI's browser test drives a
# headless Chromium, installed from Debian's packages when missing.
test: postgres chromium
	$(GO) test -race -count=1 -timeout 30m ./...

postgres:
	@bash deploy/dev/ensure-postgres.sh

chromium:
	@bash deploy/dev/ensure-chromium.sh

# The fast part of the suite: skips the process-level crash tests.
test-short: postgres
	$(GO) test -count=1 -short ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# The performance table (docs/PERFORMANCE.md) against raw JetStream
# baselines from the same run; CPU profiles go to bench-out/.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./domain/identifiers/ ./projections/
	$(GO) run ./cmd/safesignal-bench -mode full

bench-quick:
	$(GO) run ./cmd/safesignal-bench -mode quick -events 50000 -phase 5s -command-signals 2000

clean:
	rm -rf bin
