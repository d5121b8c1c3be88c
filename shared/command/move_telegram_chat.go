package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// MoveTelegramChat follows a chat that Telegram gave a new id: a group upgraded to a supergroup
// becomes chat To, and chat From is dead (Telegram Bot API: ResponseParameters.migrate_to_chat_id on a
// refused sendMessage, Message.migrate_to_chat_id in the old group, Message.migrate_from_chat_id in the
// new supergroup). The link of the account linked to From moves to To, in one transaction. It sends no
// message, and moving a chat that is no longer linked (the move already happened: Telegram gives the
// signal up to three times) changes nothing.
//
// When To is already linked to an account (someone sent /start <code> in the supergroup first), that
// newer link stays and From is unlinked: it can never receive a message again. The notification log's
// chat_id column is the history of where each attempt went and is left as it is.
type MoveTelegramChat struct {
	From, To int64
}

// TelegramChatMover moves chat links.
type TelegramChatMover interface {
	// MoveTelegramChat moves the link of chat from to chat to (or, when to is linked already, unlinks
	// from) in one transaction; nil when no account is linked to from.
	MoveTelegramChat(ctx context.Context, from, to int64) error
}

// MoveTelegramChatHandler handles MoveTelegramChat: *stockalert.ValidationError for a zero chat id or
// From equal to To; store faults otherwise.
type MoveTelegramChatHandler decorator.CommandHandler[MoveTelegramChat]

// NewMoveTelegramChatHandler builds the handler over store.
func NewMoveTelegramChatHandler(store TelegramChatMover, logger *slog.Logger, m *decorator.Metrics) MoveTelegramChatHandler {
	return decorator.ApplyCommand[MoveTelegramChat](moveTelegramChatHandler{store}, logger, m)
}

type moveTelegramChatHandler struct{ store TelegramChatMover }

func (h moveTelegramChatHandler) Handle(ctx context.Context, cmd MoveTelegramChat) error {
	if err := stockalert.ValidateChatID(cmd.From); err != nil {
		return err
	}
	if err := stockalert.ValidateChatID(cmd.To); err != nil {
		return err
	}
	if cmd.From == cmd.To {
		return stockalert.Invalid("telegram_chat_id", "chat %d cannot move to itself", cmd.From)
	}
	if err := h.store.MoveTelegramChat(ctx, cmd.From, cmd.To); err != nil {
		return fmt.Errorf("move chat %d to %d: %w", cmd.From, cmd.To, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "telegram chat moved", slog.Int64("from_chat_id", cmd.From), slog.Int64("to_chat_id", cmd.To))
	return nil
}
