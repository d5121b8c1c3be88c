// Package localfaas is an OpenFaaS provider that runs the Go functions of a stack.yml as local
// processes, without containers: "faasd without containers", built on faas-provider's bootstrap.Serve.
//
// A Provider builds each function from its handler folder with go build, runs its replicas as supervised
// processes (restarted with backoff when they exit), keeps their output for /system/logs and serves the
// provider API through Handlers: one file per endpoint, as in faasd (list.go, deploy.go, update.go,
// delete.go, status.go, scale.go, secrets.go, logs.go, info.go, namespaces.go, proxy.go, health.go,
// metrics.go). LoadStack reads stack.yml with faas-cli's ${VAR:-default} substitution. CronTrigger
// invokes cron-function annotated functions as OpenFaaS's cron-connector does, and any Trigger (the
// Kafka connector, the Telegram forwarder) plugs in beside it. StartBroker and CreateTopics provide the
// embedded Kafka. The program in cmd/localfaas wires them together for make run.
package localfaas
