package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
)

// deleteUser serves DELETE /users/{email}: delete the user and everything recorded about them
// (subscriptions, notification log, idempotency records), 204. The token stops working with it.
func (c *commands) deleteUser(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	if err := c.deps.DeleteUser.Handle(r.Context(), command.DeleteUser{Email: string(who.Email)}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
