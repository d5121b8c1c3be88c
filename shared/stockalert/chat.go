package stockalert

// ChatButton is one button of an inline keyboard under a chat message (Telegram Bot API,
// InlineKeyboardButton with callback_data): Text is its label; Data comes back in the callback query
// when it is pressed, 1 to MaxButtonData bytes.
type ChatButton struct {
	Text string
	Data string
}

// MaxButtonData is the longest callback_data Telegram accepts, in bytes (Bot API,
// InlineKeyboardButton: "1-64 bytes").
const MaxButtonData = 64
