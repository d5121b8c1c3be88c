// Command stockalert-admin is the operator's command: users, dead letters, parked outbox rows and
// health, against the store and broker the functions use. Its subcommands, settings and output are
// documented in package adminapp, which the tests run too.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stockalert/stockalert/cmd/stockalert-admin/adminapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := adminapp.Main(ctx, os.Args[1:], adminapp.ProcessIO())
	stop()
	os.Exit(code)
}
