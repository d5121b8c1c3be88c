// Package localfaas is an OpenFaaS provider that runs the Go functions of a stack.yml as local
// processes, without containers: "faasd without containers", built on faas-provider's handler types
// and the routes of its bootstrap.Serve, which localfaas serves itself (on loopback by default).
// This package holds no code; its rooms are:
//
//   - stack: stack.yml loading with faas-cli's ${VAR:-default} rules;
//   - provider: the provider API, one handler factory per faas-provider endpoint over small interfaces;
//   - supervisor: the function processes (build, start, health, restart with backoff, logs);
//   - secret: the function secrets folder;
//   - trigger: the cron trigger and the Telegram long-poll forwarder (the kafka-connector is a Trigger);
//   - embedded: the embedded Kafka broker;
//   - cmd/localfaas: the program that wires them together for make run, with the application's set-up.
package localfaas
