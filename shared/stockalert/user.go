package stockalert

import (
	"time"
)

// Notification interval bounds: how often a user may be alerted again about a subscription that stays
// out of range (the bot's /set).
const (
	DefaultNotifyInterval = time.Hour
	MaxNotifyInterval     = 30 * 24 * time.Hour
)

// User is a registered person. The API token and the Telegram link code are kept only as hashes.
type User struct {
	ID             int64
	Email          Email
	TelegramChatID *int64
	NotifyInterval time.Duration
	Paused         bool
	CreatedAt      time.Time
}

// ParseNotifyInterval turns a number of seconds into an interval, from 0 (every breach event) to
// MaxNotifyInterval. It returns a *ValidationError for field "interval" otherwise.
func ParseNotifyInterval(seconds int64) (time.Duration, error) {
	if seconds < 0 || seconds > int64(MaxNotifyInterval/time.Second) {
		return 0, Invalid("interval", "must be between 0 and %d seconds", int64(MaxNotifyInterval/time.Second))
	}
	return time.Duration(seconds) * time.Second, nil
}

// ValidateChatID checks a Telegram chat id (non-zero; negative ids are groups).
func ValidateChatID(id int64) error {
	if id == 0 {
		return Invalid("telegram_chat_id", "must not be 0")
	}
	return nil
}
