# Portier. `make run` starts it, `make test` runs every test. `make` lists the targets.
GO      ?= go
BIN     := bin/portier
ADDR    ?= 127.0.0.1:8080
DATADIR ?= ./data

.DEFAULT_GOAL := help
.PHONY: help generate run demo build test lint bench

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## regenerate the templ views (*_templ.go, committed with their .templ source)
	$(GO) tool templ generate

build: ## build the binary into bin/portier
	$(GO) build -trimpath -o $(BIN) ./cmd/portier

run: build ## build and start Portier on http://127.0.0.1:8080 with its data in ./data
	./$(BIN) serve --addr $(ADDR) --data-dir $(DATADIR)

demo: build ## start Portier with a demo account and simulated devices (data in ./demo-data; the login is printed)
	./$(BIN) serve --demo --addr $(ADDR) --data-dir ./demo-data

# CPU-bound property tests on one goroutine: the race detector would only slow them down eight
# times, so they skip under -race (db's skipUnderRace) and run here without it, at full size.
RACE_FREE_TESTS := ^(TestLogFiltersMatchTheReference|TestIdentityNeverSplits)$$

# SQLite's C code transpiled to Go (modernc.org/sqlite/lib, the C library and the allocator
# under it) is compiled without the race detector's and checkptr's instrumentation: it burns
# most of the tests' CPU there (six times the store tests' CPU without it) and finds nothing,
# as the memory it works on comes from its own allocator outside the Go heap, which the race
# detector does not watch. Our code, database/sql and the driver package keep it.
RACE_GCFLAGS := -gcflags='modernc.org/sqlite/lib=-race=false -d=checkptr=0' \
	-gcflags='modernc.org/libc/...=-race=false -d=checkptr=0' \
	-gcflags='modernc.org/memory=-race=false -d=checkptr=0'

test: ## run every test (with the race detector; the CPU-bound property tests without it)
	$(GO) test -race $(RACE_GCFLAGS) -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 10m -run '$(RACE_FREE_TESTS)' ./db/

lint: ## gofmt, go vet, generated views up to date, no inline script/style or hx-on in views
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) tool templ generate >/dev/null 2>&1 && git diff --exit-code --stat -- '*_templ.go' || { echo "generated views are stale: run make generate and commit"; exit 1; }
	@if grep -rnE 'hx-on|javascript:|<script>|style=|on(click|load|submit|change)=' views --include='*.templ'; then echo "inline script, style or hx-on in a view (the CSP forbids them)"; exit 1; fi

bench: ## benchmarks, including GET /login under load over real HTTP
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
