package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdStart serves /start. Without a code: the welcome in a chat that is not linked, which account it
// is linked to in one that is. With a code it links the chat to the account the code was issued for.
// A code that is unknown or used up is refused; when the chat is linked already (this very /start
// delivered again after its reply failed, or a stale code) the reply says which account it is linked
// to. A chat linked to another account is not moved at once: the reply asks, with the buttons "Link
// to <new>" (relink:<code>) and "Keep <old>" (keep:), and the code stays unused until then.
func (h *Webhook) cmdStart(ctx context.Context, req request) (answer, error) {
	if len(req.args) == 0 {
		st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
		switch {
		case errors.Is(err, stockalert.ErrNotFound):
			return reply(welcomeText + "\n\n" + h.helpText()), nil
		case err != nil:
			return answer{}, err
		}
		return reply(linkedText(st.Profile)), nil
	}
	// Anyone may read the welcome; in a group only an administrator may link it.
	if !req.private {
		if err := h.checkAdmin(ctx, req.chatID, req.fromID, req.asChat); err != nil {
			return answer{}, err
		}
	}
	code := strings.Join(req.args, " ")
	err := h.link.Handle(ctx, command.LinkTelegram{Code: code, ChatID: req.chatID})
	switch {
	case errors.Is(err, stockalert.ErrNotFound):
		return h.alreadyLinked(ctx, req.chatID, err)
	case errors.Is(err, stockalert.ErrConflict):
		return h.askRelink(ctx, req.chatID, code)
	case err != nil:
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, fmt.Errorf("read back the linked account: %w", err)
	}
	return reply(linkedText(st.Profile)), nil
}

// alreadyLinked answers a link code that is unknown or used up: which account the chat is linked to,
// or, when none, the error notFound (errorReply explains it).
func (h *Webhook) alreadyLinked(ctx context.Context, chatID int64, notFound error) (answer, error) {
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: chatID})
	switch {
	case err == nil:
		return reply(alreadyLinkedText(st.Profile)), nil
	case errors.Is(err, stockalert.ErrNotFound):
		return answer{}, notFound
	}
	return answer{}, err
}

// askRelink asks whether the chat, linked to one account, should move to the holder of code.
func (h *Webhook) askRelink(ctx context.Context, chatID int64, code string) (answer, error) {
	holder, err := h.codeHolder.Handle(ctx, query.LinkCodeHolder{Code: code})
	if errors.Is(err, stockalert.ErrNotFound) { // used meanwhile
		return h.alreadyLinked(ctx, chatID, err)
	}
	if err != nil {
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: chatID})
	if err != nil {
		return answer{}, fmt.Errorf("read the chat's account: %w", err)
	}
	data := relinkAction + ":" + code
	if len(data) > stockalert.MaxButtonData {
		return answer{}, fmt.Errorf("link code of %d bytes does not fit a button", len(code))
	}
	return answer{
		text: relinkQuestionText(st.Profile.Email, holder.Email),
		keyboard: [][]stockalert.ChatButton{
			{{Text: "Link to " + string(holder.Email), Data: data}},
			{{Text: "Keep " + string(st.Profile.Email), Data: keepAction + ":"}},
		},
	}, nil
}

// The buttons under the question askRelink asks.
const (
	relinkAction = "relink"
	keepAction   = "keep"
)

// pressRelink serves "Link to <email>": it moves the chat to the account holding the code in the
// button's data, tells the chat that account was linked to before (if another one), and sends the
// linked account's summary. A press delivered again finds the code used up and only says which
// account the chat gets the alerts of.
func (h *Webhook) pressRelink(ctx context.Context, cb callbackRequest) (string, answer, error) {
	holder, err := h.codeHolder.Handle(ctx, query.LinkCodeHolder{Code: cb.arg})
	if errors.Is(err, stockalert.ErrNotFound) {
		return h.relinkedBefore(ctx, cb.chatID, err)
	}
	if err != nil {
		return "", answer{}, err
	}
	err = h.link.Handle(ctx, command.LinkTelegram{Code: cb.arg, ChatID: cb.chatID, Relink: true})
	if errors.Is(err, stockalert.ErrNotFound) {
		return h.relinkedBefore(ctx, cb.chatID, err)
	}
	if err != nil {
		return "", answer{}, err
	}
	if prev := holder.TelegramChatID; prev != nil && *prev != cb.chatID {
		// The link has moved already: a failure here must not have the press run again, so it is
		// logged rather than returned.
		if serr := h.replies.Send(ctx, *prev, movedAwayText(holder.Email)); serr != nil {
			h.logger.WarnContext(ctx, "telegram webhook: could not tell the previous chat that its link moved",
				slog.Int64("chat", *prev), slog.String("err", serr.Error()))
		}
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: cb.chatID})
	if err != nil {
		return "", answer{}, fmt.Errorf("read back the linked account: %w", err)
	}
	return "Linked to " + string(holder.Email), reply(linkedText(st.Profile)), nil
}

// relinkedBefore answers a relink press whose code is used up: which account the chat gets the
// alerts of, or notFound when none.
func (h *Webhook) relinkedBefore(ctx context.Context, chatID int64, notFound error) (string, answer, error) {
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: chatID})
	switch {
	case err == nil:
		return "This chat gets the alerts of " + string(st.Profile.Email) + ".", answer{}, nil
	case errors.Is(err, stockalert.ErrNotFound):
		return "", answer{}, notFound
	}
	return "", answer{}, err
}

// pressKeep serves "Keep <email>": nothing changes; the notice says which account the chat stays
// with.
func (h *Webhook) pressKeep(ctx context.Context, cb callbackRequest) (string, answer, error) {
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: cb.chatID})
	if err != nil {
		return "", answer{}, err
	}
	return "Nothing changed: this chat still gets the alerts of " + string(st.Profile.Email) + ".", answer{}, nil
}
