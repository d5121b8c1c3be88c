// Command stock-queries is the OpenFaaS function stock-queries. Its wiring, environment and secrets are
// documented in package stockqueriesapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(stockqueriesapp.Name, stockqueriesapp.Wire) }
