// Package alertsystemapp is the composition root of the alert-system function, triggered by Kafka
// topic to-alert-system (stockalert.TopicPrices): for each price event it applies the alert policy to
// the ticker's breached subscriptions (one set-based query) and publishes an alert per subscription to
// tell to topic to-notifier (stockalert.TopicAlerts), through the store's outbox. Its main package and
// the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: KAFKA_BROKERS (required), KAFKA_CLIENT_ID, KAFKA_WRITE_TIMEOUT, KAFKA_BATCH_TIMEOUT,
// KAFKA_BATCH_SIZE, KAFKA_MAX_ATTEMPTS, KAFKA_AUTO_CREATE_TOPICS, KAFKA_TOPIC_PARTITIONS and
// KAFKA_TOPIC_REPLICATION (shared/kafka), SQLITE_PATH, IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS
// (shared/sqlstore/configured), and the function runtime's (port, bind, exec_timeout, max_body_bytes,
// log_format… see shared/faas.Config).
package alertsystemapp

import (
	"context"
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/trigger"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "alert-system"

// Wire is the function's faas.Wiring: it builds the Kafka-triggered handler (trigger.Message) that
// evaluates each stockalert.PriceEvent and then publishes the outbox to stockalert.TopicAlerts, with
// the use cases' logging and metrics on p. Errors: bad configuration (KAFKA_BROKERS is required), or a
// store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var topics kafka.TopicSettings
	if err := p.Parse(&topics); err != nil {
		return nil, err
	}
	store, err := configured.OpenFrom(ctx, p.Env, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)

	kcfg, err := kafka.ConfigFrom(p.Env)
	if err != nil {
		return nil, err
	}
	pub, err := kafka.NewPublisher(kcfg, p.Logger, p.Registry)
	if err != nil {
		return nil, err
	}
	pub.EnsureTopicsFirst(topics.Specs(stockalert.TopicAlerts)...)
	p.Defer(pub.Close)

	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	publish := command.NewPublishOutboxHandler(store, pub, p.Logger, m)
	evaluate := decorator.ThenRun(command.NewEvaluatePriceHandler(store, stockalert.TopicAlerts, p.Logger, m),
		func(ctx context.Context) error {
			return publish.Handle(ctx, command.PublishOutbox{Topic: stockalert.TopicAlerts})
		})
	return trigger.Message(func(ctx context.Context, ev stockalert.PriceEvent) error {
		return evaluate.Handle(ctx, command.EvaluatePrice{Event: ev})
	}, p.Config.MaxBodyBytes, p.Logger), nil
}
