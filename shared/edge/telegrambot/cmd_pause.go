package telegrambot

import (
	"context"

	"github.com/stockalert/stockalert/shared/command"
)

// cmdPause serves /stop (paused true) and /resume (false).
func (h *Webhook) cmdPause(paused bool) commandFunc {
	return func(ctx context.Context, req request) (answer, error) {
		if err := h.setPaused.Handle(ctx, command.SetPaused{ChatID: req.chatID, Paused: paused}); err != nil {
			return answer{}, err
		}
		return reply(pausedText(paused)), nil
	}
}
