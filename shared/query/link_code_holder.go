package query

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// LinkCodeHolder asks whose one-time Telegram link code Code is, without using it up (the bot asks
// before moving a linked chat to another account).
type LinkCodeHolder struct {
	Code string
}

// CodeHolder is the account a link code belongs to: its e-mail and the chat it is linked to now (nil
// when none).
type CodeHolder struct {
	Email          stockalert.Email
	TelegramChatID *int64
}

// LinkCodeReader finds the holder of a link code.
type LinkCodeReader interface {
	// LinkCodeHolder returns the user holding the link code hash, or stockalert.ErrNotFound.
	LinkCodeHolder(ctx context.Context, codeHash string) (stockalert.User, error)
}

// LinkCodeHolderHandler answers LinkCodeHolder: the holder, a *stockalert.ValidationError naming
// "code" for a malformed code, or stockalert.ErrNotFound for a code that is unknown or used up.
type LinkCodeHolderHandler decorator.QueryHandler[LinkCodeHolder, CodeHolder]

// NewLinkCodeHolderHandler builds the handler over r.
func NewLinkCodeHolderHandler(r LinkCodeReader, logger *slog.Logger, m *decorator.Metrics) LinkCodeHolderHandler {
	return decorator.ApplyQuery[LinkCodeHolder, CodeHolder](linkCodeHolderHandler{r}, logger, m)
}

type linkCodeHolderHandler struct{ r LinkCodeReader }

// linkCodePattern is what a link code looks like (as command.LinkTelegram checks it).
var linkCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (h linkCodeHolderHandler) Handle(ctx context.Context, q LinkCodeHolder) (CodeHolder, error) {
	if !linkCodePattern.MatchString(q.Code) {
		return CodeHolder{}, stockalert.Invalid("code", "is not a link code")
	}
	u, err := h.r.LinkCodeHolder(ctx, stockalert.HashSecret(q.Code))
	if err != nil {
		return CodeHolder{}, fmt.Errorf("holder of a link code: %w", err)
	}
	return CodeHolder{Email: u.Email, TelegramChatID: u.TelegramChatID}, nil
}
