# stockalert — see README.md. Every target works with only Go installed.
SHELL := bash
GO    ?= go
PKGS  ?= ./...
GOTESTFLAGS ?=

.PHONY: help run test lint fmt vet bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

run: ## the whole pipeline on this machine: localfaas with embedded Kafka and SQLite (see README)
	$(GO) build -o bin/localfaas ./localfaas/cmd/localfaas
	bin/localfaas -f stack.yml

test: ## all tests; uses MYSQL_DSN / KAFKA_BROKERS when set, embedded stores otherwise
	$(GO) test -count=1 $(GOTESTFLAGS) $(PKGS)

lint: fmt vet ## gofmt + go vet
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
vet:
	$(GO) vet $(PKGS)

bench: ## benchmarks (timings live here, never in tests)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean: ## remove build output and local data
	rm -rf bin build data .localfaas
