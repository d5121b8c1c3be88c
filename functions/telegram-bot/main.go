// Command telegram-bot is the OpenFaaS function telegram-bot: see package telegrambotapp, which holds its wiring.
package main

import (
	"github.com/stockalert/stockalert/functions/telegram-bot/telegrambotapp"
	"github.com/stockalert/stockalert/shared/faas"
)

func main() { faas.Main(telegrambotapp.Name, telegrambotapp.Wire) }
