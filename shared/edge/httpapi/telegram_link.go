package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// telegramLink serves POST /users/{email}/telegram-link: issue a new one-time link code, replacing the
// previous one, and answer 200 with it (and the bot's deep link when the bot's username is known). The
// code is shown this once; sending "/start <code>" to the bot links the chat. The body is ignored.
func (c *commands) telegramLink(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	code := stockalert.NewSecret()
	err := c.deps.IssueLinkCode.Handle(r.Context(), command.IssueLinkCode{
		Email: string(who.Email), CodeHash: stockalert.HashSecret(code),
	})
	if err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, linkCodeJSON{TelegramLinkCode: code, TelegramLink: deepLink(c.bot, code)})
	return nil
}
