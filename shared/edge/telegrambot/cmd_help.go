package telegrambot

import "context"

// cmdHelp serves /help: every command with its arguments (see helpText).
func (h *Webhook) cmdHelp(_ context.Context, _ request) (answer, error) {
	return reply(h.helpText()), nil
}

// plainTextHint answers plain text in a private chat.
const plainTextHint = "I only understand commands. Send /help to see them."

// cmdPlainText answers plain text in a private chat with a one-line hint.
func (h *Webhook) cmdPlainText(_ context.Context, _ request) (answer, error) {
	return reply(plainTextHint), nil
}
