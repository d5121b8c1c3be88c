// Package stockalert holds the domain of the stock-price alert pipeline: ticker symbols, e-mail
// addresses, thresholds, subscriptions and their alert policy, quotes, the events that travel between
// functions, and the errors every layer shares.
//
// It depends on nothing but the standard library and, for normalising internationalised e-mail
// addresses, golang.org/x/text/unicode/norm and golang.org/x/net/idna. The use cases live in the command (writes) and query
// (reads) packages below it; storage, messaging and the outside services are adapters named after their
// technology (sqlstore with its mysql and sqlite dialects, kafka, yahoo, telegram); the inbound edges
// (HTTP API, message trigger, bot webhook) live under shared/edge.
package stockalert
