// Command alert-system is the OpenFaaS function alert-system. Its wiring, environment and secrets are
// documented in package alertsystemapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(alertsystemapp.Name, alertsystemapp.Wire) }
