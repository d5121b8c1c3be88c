package telegrambot

import (
	"context"
	"fmt"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdToken serves /token (private chats only): a new API token for the account linked to the chat,
// shown once; the old one stops working. Delivered again, it replaces the token again: only the
// token shown last works.
func (h *Webhook) cmdToken(ctx context.Context, req request) (answer, error) {
	token := stockalert.NewSecret()
	if err := h.rotateToken.Handle(ctx, command.RotateToken{ChatID: req.chatID, TokenHash: stockalert.HashSecret(token)}); err != nil {
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, fmt.Errorf("read back the account: %w", err)
	}
	return reply(newTokenText(st.Profile.Email, token)), nil
}
