package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
)

// profile serves GET /users/{email}: 200 with the user's profile, subscriptions and thresholds.
func (q *queries) profile(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	p, err := q.deps.UserProfile.Handle(r.Context(), query.UserProfile{Email: string(who.Email)})
	if err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, newUserJSON(p))
	return nil
}
