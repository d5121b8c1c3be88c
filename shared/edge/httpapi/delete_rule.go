package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
)

// deleteRule serves DELETE /users/{email}/alerts/{id}: remove the rule, 204; 404 "no such rule",
// the same answer, for an id that is malformed, someone else's or already deleted.
func (c *commands) deleteRule(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	err := c.deps.DeleteRule.Handle(r.Context(), command.DeleteRule{Email: string(who.Email), RuleID: r.PathValue("id")})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
