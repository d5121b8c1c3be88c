// Command user-commands is the OpenFaaS function user-commands: see package usercommandsapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(usercommandsapp.Name, usercommandsapp.Wire) }
