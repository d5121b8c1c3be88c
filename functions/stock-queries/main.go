// Command stock-queries is the OpenFaaS function stock-queries: see package stockqueriesapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(stockqueriesapp.Name, stockqueriesapp.Wire) }
