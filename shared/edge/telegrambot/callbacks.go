package telegrambot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-telegram/bot/models"
)

// callbackRequest is a button press: the callback query's id (to answer it), the chat of the message
// the button was under, who pressed it, and the button's data split at its first ":" into an action
// and its argument ("snooze:42" is action "snooze", arg "42").
type callbackRequest struct {
	updateID  int64
	queryID   string
	chatID    int64
	messageID int
	fromID    int64
	private   bool
	action    string
	arg       string
}

// callbackFunc handles a button press and returns the short notice shown to the user who pressed it
// (answerCallbackQuery's text, at most 200 characters) and, when not empty, a message to send to the
// chat; or the error errorReply explains (a fault: Telegram delivers the press again).
type callbackFunc func(ctx context.Context, cb callbackRequest) (notice string, follow answer, err error)

// callbackSpec is one kind of button.
type callbackSpec struct {
	run callbackFunc
	// admin buttons change the account: in a group only its administrators may press them.
	admin bool
}

// callbackTable returns the handlers of the buttons the bot puts under its messages, by action. A
// button's data is "<action>:<arg>", at most stockalert.MaxButtonData bytes.
func (h *Webhook) callbackTable() map[string]callbackSpec {
	return map[string]callbackSpec{
		snoozeAction: {run: h.pressSnooze, admin: true},
		deleteAction: {run: h.pressDelete, admin: true},
		relinkAction: {run: h.pressRelink, admin: true},
		keepAction:   {run: h.pressKeep, admin: true},
		chartAction:  {run: h.pressChart},
	}
}

// Button texts for what the webhook says when a press cannot be served.
const (
	unknownButtonText = "This button no longer works. Send /help for the commands."
	notAdminText      = "Only the group's administrators may do that."
)

// handleCallback serves a button press: it runs the button's handler and answers the callback query
// (Telegram shows a progress bar on the button until it is answered) with the handler's notice. A
// press Telegram delivers again runs again: every handler is idempotent. A fault on our side answers
// 5xx, so that the press is delivered again.
func (h *Webhook) handleCallback(ctx context.Context, updateID int64, q *models.CallbackQuery) (string, error) {
	if h.bot == nil {
		return "button press without a bot API client", nil
	}
	cb := callbackRequest{updateID: updateID, queryID: q.ID, fromID: q.From.ID}
	if q.Message.Message != nil {
		cb.chatID, cb.messageID = q.Message.Message.Chat.ID, q.Message.Message.ID
		cb.private = q.Message.Message.Chat.Type == models.ChatTypePrivate
	} else if q.Message.InaccessibleMessage != nil {
		cb.chatID, cb.messageID = q.Message.InaccessibleMessage.Chat.ID, q.Message.InaccessibleMessage.MessageID
	}
	cb.action, cb.arg, _ = strings.Cut(q.Data, ":")
	log := h.logger.With(updateAttrs(updateID, cb.chatID, "button:"+cb.action)...)
	fail := func(kind, err error) error {
		return &updateError{updateID: updateID, chat: cb.chatID, command: "button:" + cb.action, err: fmt.Errorf("%w: %w", kind, err)}
	}

	spec, known := h.callbacks[cb.action]
	var (
		notice string
		follow answer
		err    error
	)
	switch {
	case !known || cb.chatID == 0:
		notice = unknownButtonText
	case spec.admin && !cb.private:
		if err = h.checkAdmin(ctx, cb.chatID, cb.fromID, false); err == nil {
			notice, follow, err = spec.run(ctx, cb)
		}
	default:
		notice, follow, err = spec.run(ctx, cb)
	}
	if err != nil {
		text, fault := errorReply(botCommand{name: "button:" + cb.action}, err)
		if fault {
			return "", fail(errCommandFailed, err)
		}
		notice = text
	}
	if err := h.bot.AnswerCallbackQuery(ctx, cb.queryID, clip(notice, 200)); err != nil {
		// The press was served; an answer that fails (the query expired) only leaves a spinner.
		log.WarnContext(ctx, "telegram webhook: could not answer the button press", slog.String("err", err.Error()))
	}
	if follow.text != "" || follow.photo != nil {
		if err := h.send(ctx, cb.chatID, follow); err != nil {
			return "", fail(errReplyFailed, err)
		}
	}
	return "", nil
}

// clip shortens s to at most n UTF-16 code units, ending with "…" when it was cut.
func clip(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	r := []rune(s)
	for utf16Len(string(r))+1 > n {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
