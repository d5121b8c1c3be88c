package telegrambot

import (
	"context"

	"github.com/stockalert/stockalert/shared/query"
)

// cmdStatus serves /status: the account, whether alerts are on, and the ranges with their latest
// prices (see statusText).
func (h *Webhook) cmdStatus(ctx context.Context, req request) (answer, error) {
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, err
	}
	return reply(statusText(st, h.now())), nil
}
