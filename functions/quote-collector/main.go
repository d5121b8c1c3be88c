// Command quote-collector is the OpenFaaS function quote-collector. Its wiring, environment and secrets
// are documented in package quotecollectorapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/quote-collector/quotecollectorapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(quotecollectorapp.Name, quotecollectorapp.Wire) }
