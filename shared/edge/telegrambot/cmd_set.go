package telegrambot

import (
	"context"
	"time"

	"github.com/stockalert/stockalert/shared/command"
)

// cmdSet serves /set <seconds>: the least time between two alerts about a rule that stays breached.
func (h *Webhook) cmdSet(ctx context.Context, req request) (answer, error) {
	seconds, err := parseSeconds(req.args)
	if err != nil {
		return answer{}, err
	}
	if err := h.setInterval.Handle(ctx, command.SetNotifyInterval{ChatID: req.chatID, Seconds: seconds}); err != nil {
		return answer{}, err
	}
	return reply(intervalSetText(time.Duration(seconds) * time.Second)), nil
}
