package httpapi

import (
	"net/http"
	"strconv"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// average serves GET /users/{email}/average?count=N[&ticker=T]: 200 with the mean of the last N
// recorded prices of T (or of the user's only ticker) and how many were actually averaged, which is
// fewer than N when fewer are recorded; 404 when none is. N is required, from 1 to
// query.MaxAverageCount.
func (q *queries) average(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "count", "ticker")
	if err != nil {
		return err
	}
	count, err := parseCount(params.Get("count"))
	if err != nil {
		return err
	}
	a, err := q.deps.AveragePrice.Handle(r.Context(), query.AveragePrice{
		Email: string(who.Email), Ticker: params.Get("ticker"), Count: count,
	})
	if err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, newAverageJSON(a))
	return nil
}

// parseCount reads the count parameter: a decimal integer from 1 to query.MaxAverageCount.
func parseCount(s string) (int, error) {
	if s == "" {
		return 0, stockalert.Invalid("count", "is required: how many recent prices to average, 1 to %d", query.MaxAverageCount)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > query.MaxAverageCount {
		return 0, stockalert.Invalid("count", "must be an integer from 1 to %d", query.MaxAverageCount)
	}
	return n, nil
}
