// Command data-collector is the OpenFaaS function data-collector. Its wiring, environment and secrets are
// documented in package datacollectorapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(datacollectorapp.Name, datacollectorapp.Wire) }
