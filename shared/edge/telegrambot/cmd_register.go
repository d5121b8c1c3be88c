package telegrambot

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdRegister serves /register <email> [TICKER]: it creates the account bound to this chat through
// the same RegisterUser as POST /users (the same e-mail checks and uniqueness; the ticker, when given,
// checked against the quote source), with a new API token and link code of which only the hashes are
// stored. In a private chat the reply shows the token, once; in a group never. A chat linked already
// is refused; the same /register delivered again (its reply failed) finds the chat registered with
// that e-mail and says so, without a token (/token gives a new one).
func (h *Webhook) cmdRegister(ctx context.Context, req request) (answer, error) {
	if len(req.args) < 1 || len(req.args) > 2 {
		return answer{}, stockalert.Invalid("register", "give your e-mail address and, if you like, one ticker")
	}
	cmd := command.RegisterUser{Email: req.args[0], TelegramChatID: &req.chatID}
	if len(req.args) == 2 {
		cmd.Ticker = req.args[1]
	}
	token, code := stockalert.NewSecret(), stockalert.NewSecret()
	cmd.TokenHash, cmd.LinkCodeHash = stockalert.HashSecret(token), stockalert.HashSecret(code)
	err := h.register.Handle(ctx, cmd)
	if errors.Is(err, stockalert.ErrConflict) {
		st, serr := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
		switch {
		case serr == nil:
			email, _ := stockalert.ParseEmail(cmd.Email) // valid: it met a conflict
			return reply(registeredBeforeText(st.Profile.Email, email, req.private)), nil
		case !errors.Is(serr, stockalert.ErrNotFound):
			return answer{}, serr
		}
	}
	if err != nil {
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, fmt.Errorf("read back the registered account: %w", err)
	}
	if !req.private {
		token = ""
	}
	return reply(registeredText(st.Profile, token)), nil
}
