package storetest

import (
	"testing"
)

// contractCase is one case of the store contract.
type contractCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// Run runs the whole contract suite against the stores open makes, one fresh store per case.
func Run(t *testing.T, open Opener) {
	var cases []contractCase
	cases = append(cases, userCases...)
	cases = append(cases, subscriptionCases...)
	cases = append(cases, priceCases...)
	cases = append(cases, quoteCases...)
	cases = append(cases, previousCloseCases...)
	cases = append(cases, alertCases...)
	cases = append(cases, ruleEvalCases...)
	cases = append(cases, outboxCases...)
	cases = append(cases, deliveryCases...)
	cases = append(cases, telegramCases...)
	cases = append(cases, idempotencyCases...)
	cases = append(cases, adminCases...)
	cases = append(cases, symbolCases...)
	cases = append(cases, ruleCases...)
	cases = append(cases, historyCases...)
	cases = append(cases, prefsCases...)
	cases = append(cases, heldCases...)
	cases = append(cases, channelCases...)
	cases = append(cases, emailCases...)
	cases = append(cases, webSessionCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newFixture(t, open))
		})
	}
}
