# stockalert — see README.md. Every target works with only Go installed.
SHELL := bash
GO    ?= go
PKGS  ?= ./...
GOTESTFLAGS ?=

.PHONY: help run test trial lint bench clean build-functions secrets telegram-webhook connector-image dlq-list dlq-redrive admin dashboard-image
.PHONY: chart-image certify

# OpenFaaS images, as in stack.yml: $(IMAGE_PREFIX)/<function>:$(IMAGE_TAG).
IMAGE_PREFIX ?= stockalert
IMAGE_TAG    ?= 0.1.0
# build-functions: true also runs each function's tests (as the template's default does).
GO_TEST      ?= true

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

# STACK: the stack file make run loads; localfaas/testdata/empty.yml starts a provider with nothing deployed.
STACK ?= stack.yml

run: ## the whole pipeline on this machine: localfaas with embedded Kafka and SQLite (see README); STACK=… for another stack file
	$(GO) build -o bin/localfaas ./localfaas/cmd/localfaas
	bin/localfaas -f $(STACK)

test: ## all tests; uses MYSQL_DSN / KAFKA_BROKERS when set, embedded stores otherwise
	$(GO) test -count=1 $(GOTESTFLAGS) $(PKGS)

trial: ## the fault trial (minutes): make run under kill -9, broker restarts, Telegram 429/500 storms; fails if an alert is lost
	FAULT_TRIAL=1 $(GO) test -count=1 -timeout 30m -run '^TestFaultTrial$$' -v ./localfaas/cmd/localfaas

# certify: the OpenFaaS provider certifier against localfaas. CERTIFIER: a checkout of
# github.com/openfaas/certifier (cloned into a temporary folder when empty); CERTIFY_FLAGS: its flags.
CERTIFIER     ?=
CERTIFY_FLAGS ?=
certify: ## the OpenFaaS certifier against localfaas on an empty stack (CERTIFIER=<checkout>; localfaas/README.md)
	localfaas/certify.sh $(CERTIFIER) $(CERTIFY_FLAGS)

GOLANGCI_LINT ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

dashboard-image: ## docs/dashboard.png: the browser test's screenshot of the signed-in dashboard (needs Chromium)
	DASHBOARD_SCREENSHOT=$(CURDIR)/docs/dashboard.png $(GO) test -count=1 -run '^TestBrowser$$' -v ./functions/dashboard

lint: ## golangci-lint with .golangci.yml (gofmt, goimports, vet, staticcheck, the import rule, …); zero findings
	$(GO) run $(GOLANGCI_LINT) run --allow-parallel-runners $(PKGS)

# bench: every package's benchmarks, then the issue-16 ones with fixed counts, all into bin/bench.txt,
# then cmd/benchtable's table of figures, baselines, ratios and goals. BENCH_SCALE=1 adds the 1M-rule rows.
BENCH_SCALE ?=
TABLE_BENCH := ^Benchmark(EvaluatePrice|HotTicker|Delivery|ColdStart|Collection)$$
bench: ## benchmarks (timings live here, never in tests), ending with the one table (README "Tests, benchmarks, CI")
	@mkdir -p bin
	set -o pipefail; { \
	$(GO) test -run '^$$' -bench . -benchmem -skip '$(TABLE_BENCH)' $(PKGS) && \
	BENCH_SCALE=$(BENCH_SCALE) $(GO) test -run '^$$' -bench '^BenchmarkEvaluatePrice$$' -benchtime 300x -timeout 30m ./shared/sqlstore && \
	$(GO) test -run '^$$' -bench '^BenchmarkHotTicker$$' -benchtime 2x -timeout 30m ./shared/sqlstore && \
	$(GO) test -run '^$$' -bench '^BenchmarkDelivery$$' -benchtime 90x ./shared/telegram && \
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 35x ./localfaas/supervisor ./localfaas/cmd/localfaas && \
	$(GO) test -run '^$$' -bench '^BenchmarkCollection$$' ./shared/collector; \
	} 2>&1 | tee bin/bench.txt
	@echo; $(GO) run ./cmd/benchtable -stack stack.yml bin/bench.txt

chart-image: ## docs/chart.png, the README's chart, drawn from the chart tests' fixed data
	CHART_IMAGE_OUT=$(CURDIR)/docs/chart.png $(GO) test -count=1 -run '^TestWriteChartImage$$' ./shared/chart/

build-functions: ## the template's build steps for every function, without Docker: build/<fn>/handler
	@set -e; contexts=$$($(GO) run ./deploy/cmd/shrinkwrap -f stack.yml -o build); \
	for ctx in $$contexts; do \
		echo "== $${ctx#$(CURDIR)/}"; \
		(cd "$$ctx/function" && GO_TEST=$(GO_TEST) sh ../build.sh ../handler); \
	done

secrets: ## OpenFaaS secrets from MYSQL_DSN, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET (faas-cli; see deploy/README.md)
	@sh deploy/secrets.sh

telegram-webhook: ## setWebhook (Telegram calls PUBLIC_GATEWAY_URL/function/telegram-bot with the secret token), then setMyCommands (the "/" menus)
	@sh deploy/telegram-webhook.sh
	$(GO) run ./cmd/stockalert-admin telegram menu

connector-image: ## build and push the kafka-connector image IMAGE_PREFIX/kafka-connector:IMAGE_TAG (Docker)
	docker build -f kafkaconnector/Dockerfile -t $(IMAGE_PREFIX)/kafka-connector:$(IMAGE_TAG) .
	docker push $(IMAGE_PREFIX)/kafka-connector:$(IMAGE_TAG)

# dlq-list / dlq-redrive: TOPIC (a consumed topic or its .dlq), KAFKA_BROKERS (make run prints its
# broker), DLQ_ARGS (more flags: -partition, -from, -to, -group; see `kafka-connector dlq`).
dlq-list: ## list the dead letters of TOPIC: make dlq-list TOPIC=to-notifier KAFKA_BROKERS=127.0.0.1:9092
	$(GO) run ./kafkaconnector/cmd/kafka-connector dlq list -topic "$(TOPIC)" $(DLQ_ARGS)

dlq-redrive: ## re-publish TOPIC's dead letters (all, or the DLQ_ARGS range) to their topic, each once
	$(GO) run ./kafkaconnector/cmd/kafka-connector dlq redrive -topic "$(TOPIC)" $(or $(DLQ_ARGS),-all)

# admin: the operator's command against the configured store and broker (README "Operating").
admin: ## stockalert-admin: make admin ARGS='users list --ticker AAPL' (MYSQL_DSN / SQLITE_PATH, KAFKA_BROKERS)
	$(GO) run ./cmd/stockalert-admin $(ARGS)

clean: ## remove build output and local data
	rm -rf bin build data .localfaas
