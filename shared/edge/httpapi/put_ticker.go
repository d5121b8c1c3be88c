package httpapi

import (
	"fmt"
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// putTickerRequest is the body of PUT /users/{email}/tickers/{ticker}: the whole range, a bound that is
// absent or null is not watched.
type putTickerRequest struct {
	HighValue *float64 `json:"high_value"`
	LowValue  *float64 `json:"low_value"`
}

// putTicker serves PUT /users/{email}/tickers/{ticker}: watch the ticker with exactly these thresholds
// (creating or replacing the subscription) and answer 200 with the profile. Repeating it changes
// nothing.
func (c *commands) putTicker(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	var req putTickerRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	err := c.deps.Subscribe.Handle(r.Context(), command.Subscribe{
		Email:      string(who.Email),
		Ticker:     r.PathValue("ticker"),
		Thresholds: stockalert.Thresholds{High: req.HighValue, Low: req.LowValue},
	})
	if err != nil {
		return err
	}
	p, err := c.deps.UserProfile.Handle(r.Context(), query.UserProfile{Email: string(who.Email)})
	if err != nil {
		return fmt.Errorf("read back subscribed user: %w", err)
	}
	httpjson.WriteJSON(w, http.StatusOK, newUserJSON(p))
	return nil
}
