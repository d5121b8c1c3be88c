// Command data-collector is the OpenFaaS function data-collector: see package datacollectorapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(datacollectorapp.Name, datacollectorapp.Wire) }
