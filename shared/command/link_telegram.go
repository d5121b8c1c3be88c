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
// code is used up. A chat linked to another user moves to this one only when Relink is set (the chat
// confirmed it); otherwise nothing changes and the handler returns a *stockalert.ConflictError naming
// "telegram_chat_id". Only someone who holds the code — shown once at registration — can link a chat
// to the account.
type LinkTelegram struct {
	Code   string
	ChatID int64
	Relink bool
}

var linkCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Linked is what a link changed: the account now linked, the chat it was linked to before (nil when
// none, or when it was this chat) and the account this chat was linked to before ("" when none).
type Linked struct {
	Email        stockalert.Email
	PreviousChat *int64
	Unlinked     stockalert.Email
}

// TelegramLinker links chats.
type TelegramLinker interface {
	// LinkTelegram sets the chat of the user holding the link code hash and clears the code, or returns
	// stockalert.ErrNotFound when no user holds it. A chat linked to another user moves when relink is
	// set; otherwise it is a *stockalert.ConflictError naming "telegram_chat_id" and nothing changes.
	LinkTelegram(ctx context.Context, codeHash string, chatID int64, relink bool) (Linked, error)
}

// LinkTelegramHandler handles LinkTelegram: *stockalert.ValidationError for a malformed code or chat,
// stockalert.ErrNotFound for a code that is unknown or already used, stockalert.ErrConflict when the
// chat is linked to another account and Relink is not set.
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
	out, err := h.store.LinkTelegram(ctx, stockalert.HashSecret(cmd.Code), cmd.ChatID, cmd.Relink)
	if err != nil {
		return fmt.Errorf("link chat %d: %w", cmd.ChatID, err)
	}
	msg, event := "Telegram chat linked", "telegram-linked"
	attrs := []slog.Attr{slog.String("email", string(out.Email)), slog.Int64("chat", cmd.ChatID)}
	if out.Unlinked != "" {
		msg, event = "Telegram chat re-linked", "telegram-relinked"
		attrs = append(attrs, slog.String("unlinked_email", string(out.Unlinked)))
	}
	if out.PreviousChat != nil {
		attrs = append(attrs, slog.Int64("previous_chat", *out.PreviousChat))
	}
	attrs = append([]slog.Attr{slog.String("event", event)}, attrs...)
	decorator.Report(ctx, slog.LevelInfo, msg, attrs...)
	return nil
}
