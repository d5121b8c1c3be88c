package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// createRuleRequest is the body of POST /users/{email}/alerts. Every field is optional to the
// decoder, so that a field of another kind can be told from one left out and refused by name.
type createRuleRequest struct {
	Ticker    string     `json:"ticker"`
	Kind      string     `json:"kind"`
	HighValue *float64   `json:"high_value,omitempty"`
	LowValue  *float64   `json:"low_value,omitempty"`
	Level     *float64   `json:"level,omitempty"`
	Percent   *float64   `json:"percent,omitempty"`
	Direction *string    `json:"direction,omitempty"`
	Reference *float64   `json:"reference,omitempty"`
	Repeat    *string    `json:"repeat,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Note      *string    `json:"note,omitempty"`
	// Channels names the channels the rule's alerts go to (telegram, email, webhook); absent: every
	// channel the user enabled.
	Channels *[]string `json:"channels,omitempty"`
}

// kindFields are the fields each kind takes besides ticker, kind, repeat, expires_at and note.
var kindFields = map[stockalert.RuleKind][]string{
	stockalert.KindRange:     {"high_value", "low_value"},
	stockalert.KindAbove:     {"level"},
	stockalert.KindBelow:     {"level"},
	stockalert.KindChangePct: {"percent", "direction"},
	stockalert.KindMovePct:   {"percent", "direction", "reference"},
}

// rule checks that only the kind's own fields are present (a *stockalert.ValidationError naming the
// first other one) and returns the rule as written; the command validates the values.
func (q createRuleRequest) rule() (stockalert.Rule, error) {
	kind := stockalert.RuleKind(q.Kind)
	if own, known := kindFields[kind]; known {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"high_value", q.HighValue != nil}, {"low_value", q.LowValue != nil}, {"level", q.Level != nil},
			{"percent", q.Percent != nil}, {"direction", q.Direction != nil}, {"reference", q.Reference != nil},
		} {
			if f.set && !slices.Contains(own, f.name) {
				return stockalert.Rule{}, stockalert.Invalid(f.name, "is not a field of %s rules", kind)
			}
		}
	}
	r := stockalert.Rule{Ticker: stockalert.Ticker(q.Ticker), Kind: kind,
		Thresholds: stockalert.Thresholds{High: q.HighValue, Low: q.LowValue}}
	if q.Level != nil {
		if *q.Level == 0 {
			return stockalert.Rule{}, stockalert.Invalid("level", "must be greater than 0")
		}
		r.Level = *q.Level
	}
	if q.Percent != nil {
		if *q.Percent == 0 {
			return stockalert.Rule{}, stockalert.Invalid("percent", "must be greater than 0 and at most %d", stockalert.MaxPercent)
		}
		r.Percent = *q.Percent
	}
	if q.Reference != nil {
		if *q.Reference == 0 {
			return stockalert.Rule{}, stockalert.Invalid("reference", "must be greater than 0, or left out for the latest price")
		}
		r.Reference = *q.Reference
	}
	if q.Direction != nil {
		if *q.Direction == "" {
			return stockalert.Rule{}, stockalert.Invalid("direction", "must be up, down or either")
		}
		r.Direction = stockalert.Direction(*q.Direction)
	}
	if q.Repeat != nil {
		if *q.Repeat == "" {
			return stockalert.Rule{}, stockalert.Invalid("repeat", "must be rearm or once")
		}
		r.Repeat = stockalert.Repeat(*q.Repeat)
	}
	if q.ExpiresAt != nil {
		if q.ExpiresAt.IsZero() {
			return stockalert.Rule{}, stockalert.Invalid("expires_at", "must be in the future")
		}
		r.ExpiresAt = *q.ExpiresAt
	}
	if q.Note != nil {
		r.Note = *q.Note
	}
	if q.Channels != nil {
		cs, err := stockalert.ParseChannels("channels", *q.Channels)
		if err != nil {
			return stockalert.Rule{}, err
		}
		r.Channels = cs
	}
	return r, nil
}

// createRule serves POST /users/{email}/alerts: add an alert rule and answer 201 with it. With an
// Idempotency-Key, a repeat answers the first response again (the rule is created once).
func (c *commands) createRule(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	var req createRuleRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	rule, err := req.rule()
	if err != nil {
		return err
	}
	canonical, err := marshal(req)
	if err != nil {
		return err
	}
	fingerprint := stockalert.Fingerprint([]byte(who.Email), canonical)
	body, replayed, err := runOnce(r.Context(), c.deps.Once, r, "create-rule", who.Email, true, fingerprint,
		func(ctx context.Context) ([]byte, error) {
			var created stockalert.Rule
			err := c.deps.CreateRule.Handle(ctx, command.CreateRule{Email: string(who.Email), Rule: rule, Created: &created})
			if err != nil {
				return nil, err
			}
			return marshal(newRuleJSON(created, stockalert.RuleArmed))
		})
	if err != nil {
		return err
	}
	writeResult(w, http.StatusCreated, body, replayed)
	return nil
}
