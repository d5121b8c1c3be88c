package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
)

// history serves GET /users/{email}/alerts/history[?ticker=T&limit=N]: 200 with {"alerts":[…]}, the
// alerts raised for the user (on T only when given), newest first, at most N (default 50, 1–500; 400
// naming "limit" otherwise), each with its delivery outcome per channel.
func (q *queries) history(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "ticker", "limit")
	if err != nil {
		return err
	}
	alerts, err := q.deps.AlertHistory.Handle(r.Context(), query.AlertHistory{
		Email: string(who.Email), Ticker: params.Get("ticker"), Limit: params.Get("limit"),
	})
	if err != nil {
		return err
	}
	out := struct {
		Alerts []alertJSON `json:"alerts"`
	}{Alerts: make([]alertJSON, len(alerts))}
	for i, a := range alerts {
		out.Alerts[i] = newAlertJSON(a)
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
	return nil
}
