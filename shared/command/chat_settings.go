package command

import "context"

// ChatSettings changes the settings of the user linked to a chat.
type ChatSettings interface {
	// SetNotifyInterval sets the interval of the user linked to chatID, or returns stockalert.ErrNotFound.
	SetNotifyInterval(ctx context.Context, chatID int64, seconds int64) error
	// SetPaused pauses or resumes the user linked to chatID, or returns stockalert.ErrNotFound.
	SetPaused(ctx context.Context, chatID int64, paused bool) error
}
