package telegrambot

import (
	"context"

	"github.com/stockalert/stockalert/shared/query"
)

// cmdPrice serves /price <TICKER> [TICKER…]: the current quote of each symbol from the quote source
// (through its circuit breaker and short cache), times in the zone of the user linked to the chat (UTC
// for an unlinked chat). Anyone may ask, in groups too.
func (h *Webhook) cmdPrice(ctx context.Context, req request) (answer, error) {
	board, err := h.prices.Handle(ctx, query.CurrentQuotes{ChatID: req.chatID, Tickers: req.args})
	if err != nil {
		return answer{}, err
	}
	return reply(priceText(board, h.now())), nil
}
