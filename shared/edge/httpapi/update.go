package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// updateRequest is the body of PATCH /users/{email}. Each field is kept raw so that an absent field
// (leave it alone) can be told from a JSON null (clear it); a nil RawMessage is absent.
type updateRequest struct {
	Ticker    json.RawMessage `json:"ticker"`
	HighValue json.RawMessage `json:"high_value"`
	LowValue  json.RawMessage `json:"low_value"`
}

// updateChange is a decoded PATCH: what to change, and nothing else. It is also the canonical form
// fingerprinted for the Idempotency-Key.
type updateChange struct {
	Ticker *string                 `json:"ticker"`
	High   command.Change[float64] `json:"high"`
	Low    command.Change[float64] `json:"low"`
}

// parse turns the raw fields into a change, naming the field whose value has the wrong type.
func (u updateRequest) parse() (updateChange, error) {
	var c updateChange
	if u.Ticker != nil {
		var t string
		if err := json.Unmarshal(u.Ticker, &t); err != nil || isNull(u.Ticker) {
			return updateChange{}, stockalert.Invalid("ticker", "must be a string")
		}
		c.Ticker = &t
	}
	var err error
	if c.High, err = thresholdChange("high_value", u.HighValue); err != nil {
		return updateChange{}, err
	}
	if c.Low, err = thresholdChange("low_value", u.LowValue); err != nil {
		return updateChange{}, err
	}
	return c, nil
}

// thresholdChange decodes a threshold of a PATCH: absent leaves it, null clears it, a number sets it.
func thresholdChange(field string, raw json.RawMessage) (command.Change[float64], error) {
	switch {
	case raw == nil:
		return command.Change[float64]{}, nil
	case isNull(raw):
		return command.Change[float64]{Set: true}, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return command.Change[float64]{}, stockalert.Invalid(field, "must be a number no larger than %g, or null to stop watching it",
			float64(stockalert.MaxThreshold))
	}
	return command.Change[float64]{Set: true, Value: &v}, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// update serves PATCH /users/{email}: change the ticker and thresholds of a user who watches one
// ticker (changing the ticker moves the subscription) and answer 200 with the profile. With an
// Idempotency-Key, a repeat answers the first response again.
func (c *commands) update(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	var req updateRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	change, err := req.parse()
	if err != nil {
		return err
	}
	canonical, err := marshal(change)
	if err != nil {
		return err
	}
	fingerprint := stockalert.Fingerprint([]byte(who.Email), canonical)
	body, replayed, err := runOnce(r.Context(), c.deps.Once, r, "update-user", who.Email, true, fingerprint,
		func(ctx context.Context) ([]byte, error) {
			err := c.deps.UpdateUser.Handle(ctx, command.UpdateUser{
				Email: string(who.Email), Ticker: change.Ticker, High: change.High, Low: change.Low,
			})
			if err != nil {
				return nil, err
			}
			p, err := c.deps.UserProfile.Handle(ctx, query.UserProfile{Email: string(who.Email)})
			if err != nil {
				return nil, fmt.Errorf("read back updated user: %w", err)
			}
			return marshal(newUserJSON(p))
		})
	if err != nil {
		return err
	}
	writeResult(w, http.StatusOK, body, replayed)
	return nil
}
