package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
)

// rules serves GET /users/{email}/alerts[?ticker=T]: 200 with {"rules":[…]}, the user's rules (on T
// only when given) ordered by ticker then creation, each with its state, last_triggered_at and its
// ticker's latest price.
func (q *queries) rules(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	params, err := queryParams(r, "ticker")
	if err != nil {
		return err
	}
	views, err := q.deps.Rules.Handle(r.Context(), query.Rules{Email: string(who.Email), Ticker: params.Get("ticker")})
	if err != nil {
		return err
	}
	out := struct {
		Rules []ruleViewJSON `json:"rules"`
	}{Rules: make([]ruleViewJSON, len(views))}
	for i, v := range views {
		out.Rules[i] = newRuleViewJSON(v)
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
	return nil
}
