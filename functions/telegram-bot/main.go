// Command telegram-bot is the OpenFaaS function telegram-bot. Its wiring, environment and secrets are
// documented in package telegrambotapp, which the tests run too.
package main

import (
	"github.com/stockalert/stockalert/functions/telegram-bot/telegrambotapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(telegrambotapp.Name, telegrambotapp.Wire) }
