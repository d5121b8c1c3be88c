package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ChatProfile asks for the profile of the user linked to a Telegram chat, with the latest price of each
// ticker they watch (the bot's /status).
type ChatProfile struct {
	ChatID int64
}

// ChatStatus is a linked user's profile and the latest recorded price of each watched ticker (tickers
// with no price yet are absent from Prices), each flagged Stale when older than the handler's Freshness.
type ChatStatus struct {
	Profile Profile
	Prices  map[stockalert.Ticker]Price
}

// ChatProfileReader reads profiles by chat and latest prices.
type ChatProfileReader interface {
	// ChatProfile returns the profile of the user linked to chatID, or stockalert.ErrNotFound.
	ChatProfile(ctx context.Context, chatID int64) (Profile, error)
	// LatestPrices returns the latest price of each ticker that has one.
	LatestPrices(ctx context.Context, tickers []stockalert.Ticker) (map[stockalert.Ticker]Price, error)
}

// ChatProfileHandler answers ChatProfile, or stockalert.ErrNotFound when no user is linked to the chat.
type ChatProfileHandler decorator.QueryHandler[ChatProfile, ChatStatus]

// NewChatProfileHandler builds the handler over r, flagging stale prices by f.
func NewChatProfileHandler(r ChatProfileReader, f Freshness, logger *slog.Logger, m *decorator.Metrics) ChatProfileHandler {
	return decorator.ApplyQuery[ChatProfile, ChatStatus](chatProfileHandler{r, f}, logger, m)
}

type chatProfileHandler struct {
	r ChatProfileReader
	f Freshness
}

func (h chatProfileHandler) Handle(ctx context.Context, q ChatProfile) (ChatStatus, error) {
	p, err := h.r.ChatProfile(ctx, q.ChatID)
	if err != nil {
		return ChatStatus{}, fmt.Errorf("profile of chat %d: %w", q.ChatID, err)
	}
	prices, err := h.r.LatestPrices(ctx, p.Tickers())
	if err != nil {
		return ChatStatus{}, fmt.Errorf("latest prices for chat %d: %w", q.ChatID, err)
	}
	for t, pr := range prices {
		prices[t] = h.f.flag(pr)
	}
	return ChatStatus{Profile: p, Prices: prices}, nil
}
