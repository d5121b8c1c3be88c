package httpapi

import (
	"net/http"
	"strconv"

	"github.com/stockalert/stockalert/shared/query"
)

// chart serves GET /users/{email}/chart?ticker=T[&range=R]: 200 with the image/png of T's price over
// R (1d, 5d, 1mo, 6mo or 1y; 1d when left out) with the user's levels on T and where their alerts
// fired, times in their zone (query.Chart). 400 naming "ticker" or "range" for bad input, 404 when the
// quote source has no history of T, 503 when it cannot be reached.
func (q *queries) chart(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "ticker", "range")
	if err != nil {
		return err
	}
	img, err := q.deps.Chart.Handle(r.Context(), query.Chart{
		Email: string(who.Email), Ticker: params.Get("ticker"), Range: params.Get("range"),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(img.PNG)))
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img.PNG)
	return nil
}
