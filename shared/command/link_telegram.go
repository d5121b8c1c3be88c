package command

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// LinkTelegram links ChatID to the user whose one-time link Code it is (the bot's /start <code>). The
// code is used up; a chat linked to another user before moves to this one. Only someone who holds the
// code — shown once at registration — can link a chat to the account.
type LinkTelegram struct {
	Code   string
	ChatID int64
}

var linkCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// TelegramLinker links chats.
type TelegramLinker interface {
	// LinkTelegram sets the chat of the user holding the link code hash and clears the code, or returns
	// stockalert.ErrNotFound when no user holds it.
	LinkTelegram(ctx context.Context, codeHash string, chatID int64) error
}

// LinkTelegramHandler handles LinkTelegram: *stockalert.ValidationError for a malformed code or chat,
// stockalert.ErrNotFound for a code that is unknown or already used.
type LinkTelegramHandler decorator.CommandHandler[LinkTelegram]

// NewLinkTelegramHandler builds the handler over store.
func NewLinkTelegramHandler(store TelegramLinker, logger *slog.Logger, m *decorator.Metrics) LinkTelegramHandler {
	return decorator.ApplyCommand[LinkTelegram](linkTelegramHandler{store}, logger, m)
}

type linkTelegramHandler struct{ store TelegramLinker }

func (h linkTelegramHandler) Handle(ctx context.Context, cmd LinkTelegram) error {
	if !linkCodePattern.MatchString(cmd.Code) {
		return stockalert.Invalid("code", "is not a link code")
	}
	if err := stockalert.ValidateChatID(cmd.ChatID); err != nil {
		return err
	}
	if err := h.store.LinkTelegram(ctx, stockalert.HashSecret(cmd.Code), cmd.ChatID); err != nil {
		return fmt.Errorf("link chat %d: %w", cmd.ChatID, err)
	}
	return nil
}
