// Command alert-notifier is the OpenFaaS function alert-notifier. Its wiring, environment and secrets are
// documented in package alertnotifierapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(alertnotifierapp.Name, alertnotifierapp.Wire) }
