// Command alert-notifier is the OpenFaaS function alert-notifier: see package alertnotifierapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(alertnotifierapp.Name, alertnotifierapp.Wire) }
