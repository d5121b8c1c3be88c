// Package query holds the read side of stockalert: one use case per file, each a query type, its
// handler, New…Handler(deps) and Handle(ctx, q) returning a read model. Read models are shaped for
// their readers (the HTTP API, the Telegram bot, the alert system), not for the tables behind them.
//
// Each handler declares the small reader interface it needs; the sqlstore package implements them all.
// Errors: *stockalert.ValidationError for bad input, stockalert.ErrNotFound when the thing asked for does
// not exist, stockalert.ErrUnauthorized from Authenticate, anything else is a fault of the store.
package query
