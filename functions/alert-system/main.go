// Command alert-system is the OpenFaaS function alert-system: see package alertsystemapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(alertsystemapp.Name, alertsystemapp.Wire) }
