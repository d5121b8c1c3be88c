// Command dashboard is the OpenFaaS function dashboard, the users' web dashboard. Its wiring,
// environment and secrets are documented in package dashboardapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/dashboard/dashboardapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(dashboardapp.Name, dashboardapp.Wire) }
