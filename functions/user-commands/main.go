// Command user-commands is the OpenFaaS function user-commands. Its wiring, environment and secrets are
// documented in package usercommandsapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(usercommandsapp.Name, usercommandsapp.Wire) }
