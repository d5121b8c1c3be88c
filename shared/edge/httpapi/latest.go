package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// latest serves GET /users/{email}/latest[?ticker=T]: with T, 200 with the most recent recorded price
// of T (404 when none is recorded yet); without, 200 with {"prices":[…],"unpriced":[…]}: the latest
// price of every ticker on which the user has a live rule (not done, not expired), in ticker order,
// and those of them with no price recorded yet.
func (q *queries) latest(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "ticker")
	if err != nil {
		return err
	}
	if ticker := params.Get("ticker"); ticker != "" {
		p, err := q.deps.LatestPrice.Handle(r.Context(), query.LatestPrice{Email: string(who.Email), Ticker: ticker})
		if err != nil {
			return err
		}
		httpjson.WriteJSON(w, http.StatusOK, newPriceJSON(p))
		return nil
	}
	if _, given := params["ticker"]; given {
		return stockalert.Invalid("ticker", "must not be empty: name a ticker, or leave the parameter out for every ticker")
	}
	live, err := q.deps.LatestPrices.Handle(r.Context(), query.LatestPrices{Email: string(who.Email)})
	if err != nil {
		return err
	}
	out := struct {
		Prices   []priceJSON `json:"prices"`
		Unpriced []string    `json:"unpriced"`
	}{Prices: make([]priceJSON, len(live.Prices)), Unpriced: make([]string, len(live.Unpriced))}
	for i, p := range live.Prices {
		out.Prices[i] = newPriceJSON(p)
	}
	for i, t := range live.Unpriced {
		out.Unpriced[i] = string(t)
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
	return nil
}
