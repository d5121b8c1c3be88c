package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
)

// deleteTicker serves DELETE /users/{email}/tickers/{ticker}: stop watching the ticker, 204; 404 when
// the user does not watch it.
func (c *commands) deleteTicker(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	err := c.deps.Unsubscribe.Handle(r.Context(), command.Unsubscribe{Email: string(who.Email), Ticker: r.PathValue("ticker")})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
