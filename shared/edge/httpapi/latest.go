package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
)

// latest serves GET /users/{email}/latest[?ticker=T]: 200 with the most recent recorded price of T, or
// of the user's only ticker when T is left out (400 for "ticker" when the user watches several); 404
// when no price is recorded yet.
func (q *queries) latest(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "ticker")
	if err != nil {
		return err
	}
	p, err := q.deps.LatestPrice.Handle(r.Context(), query.LatestPrice{Email: string(who.Email), Ticker: params.Get("ticker")})
	if err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, newPriceJSON(p))
	return nil
}
