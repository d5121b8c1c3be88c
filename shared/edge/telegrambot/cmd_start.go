package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdStart serves /start: the welcome without a code; with one, it links the chat to the account the
// code was issued for. A code that is unknown or used up is refused; when the chat is linked already
// (this very /start delivered again after its reply failed, or a stale code) the reply says which
// account it is linked to, which the chat can see with /status anyway.
func (h *Webhook) cmdStart(ctx context.Context, req request) (answer, error) {
	if len(req.args) == 0 {
		return reply(welcomeText), nil
	}
	code := strings.Join(req.args, " ")
	err := h.link.Handle(ctx, command.LinkTelegram{Code: code, ChatID: req.chatID})
	if errors.Is(err, stockalert.ErrNotFound) {
		st, serr := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
		switch {
		case serr == nil:
			return reply(alreadyLinkedText(st.Profile)), nil
		case errors.Is(serr, stockalert.ErrNotFound):
			return answer{}, err
		}
		return answer{}, serr
	}
	if err != nil {
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, fmt.Errorf("read back the linked account: %w", err)
	}
	return reply(linkedText(st.Profile)), nil
}
