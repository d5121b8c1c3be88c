package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ChannelStates asks for a user's channels, by Email or, when Email is "", by the linked Telegram chat
// ChatID (the bot's /channels).
type ChannelStates struct {
	Email  string
	ChatID int64
}

// ChannelState is one of a user's channels as the user may see it (never the webhook's secret).
type ChannelState struct {
	Channel stockalert.Channel
	Enabled bool
	// Target is the linked chat's id (telegram), the account's address (email) or the webhook's URL;
	// "" when there is none.
	Target string
	// Verified: e-mail's address is confirmed (always true for the other channels).
	Verified bool
	// DisabledReason says why the system turned the channel off ("" when it did not).
	DisabledReason string
}

// ChannelReader reads users' channel settings.
type ChannelReader interface {
	// UserByEmail returns the user, or stockalert.ErrNotFound.
	UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// UserByChat returns the user linked to the chat, or stockalert.ErrNotFound.
	UserByChat(ctx context.Context, chatID int64) (stockalert.User, error)
	// ChannelSettings returns the user's settings of every channel, in stockalert.Channels order.
	ChannelSettings(ctx context.Context, userID int64) ([]stockalert.ChannelSettings, error)
}

// ChannelStatesHandler answers ChannelStates: every channel in stockalert.Channels order, a
// *stockalert.ValidationError for a malformed e-mail, or stockalert.ErrNotFound.
type ChannelStatesHandler decorator.QueryHandler[ChannelStates, []ChannelState]

// NewChannelStatesHandler builds the handler over r.
func NewChannelStatesHandler(r ChannelReader, logger *slog.Logger, m *decorator.Metrics) ChannelStatesHandler {
	return decorator.ApplyQuery[ChannelStates, []ChannelState](channelStatesHandler{r}, logger, m)
}

type channelStatesHandler struct{ r ChannelReader }

func (h channelStatesHandler) Handle(ctx context.Context, q ChannelStates) ([]ChannelState, error) {
	var (
		u   stockalert.User
		err error
	)
	if q.Email != "" || q.ChatID == 0 {
		email, err := stockalert.ParseEmail(q.Email)
		if err != nil {
			return nil, err
		}
		u, err = h.r.UserByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("channels of %s: %w", email, err)
		}
	} else if u, err = h.r.UserByChat(ctx, q.ChatID); err != nil {
		return nil, fmt.Errorf("channels of chat %d: %w", q.ChatID, err)
	}
	all, err := h.r.ChannelSettings(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("channels of %s: %w", u.Email, err)
	}
	out := make([]ChannelState, len(all))
	for i, s := range all {
		out[i] = ChannelState{Channel: s.Channel, Enabled: s.Enabled, Target: s.Target, Verified: s.Verified, DisabledReason: s.DisabledReason}
	}
	return out, nil
}
