package telegrambot

import (
	"context"
	"net/url"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdWeb serves /web (private chats only): a one-time link that signs the account linked to the chat
// in to the web dashboard, valid for command.WebLoginTTL and for one sign-in. Delivered again, it
// issues another link; each works once.
func (h *Webhook) cmdWeb(ctx context.Context, req request) (answer, error) {
	if h.webLogin == nil || h.dashboard == "" {
		return reply("The web dashboard is not set up here."), nil
	}
	code := stockalert.NewSecret()
	if err := h.webLogin.Handle(ctx, command.IssueWebLogin{ChatID: req.chatID, CodeHash: command.WebSecretHash(code)}); err != nil {
		return answer{}, err
	}
	link := h.dashboard + "/login?code=" + url.QueryEscape(code)
	return reply("Open this link within 10 minutes to sign in to the web dashboard (it works once; keep it to yourself):\n" + link), nil
}
