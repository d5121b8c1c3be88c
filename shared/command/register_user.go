package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// RegisterUser creates a user watching one ticker, or none: an account with no Ticker (and no
// Thresholds) gets its tickers later. The caller generates the API token and the Telegram link code,
// shows them once, and passes only their hashes.
type RegisterUser struct {
	Email string
	// Ticker is the symbol to watch; empty registers the account alone.
	Ticker string
	// Thresholds of the ticker's subscription; both nil watches the ticker without alerting until a
	// bound is set. A bound without a Ticker is a *stockalert.ValidationError naming "ticker".
	Thresholds     stockalert.Thresholds
	TelegramChatID *int64
	TokenHash      string
	LinkCodeHash   string
}

// NewUser is a validated registration as the store receives it.
type NewUser struct {
	Email          stockalert.Email
	TelegramChatID *int64
	TokenHash      string
	LinkCodeHash   string
	NotifyInterval int64 // seconds
}

// UserRegistrar stores new users.
type UserRegistrar interface {
	Transactor
	// CreateUser inserts the user and returns its id, or stockalert.ErrConflict when the e-mail (field
	// "email") or the chat (field "telegram_chat_id") already belongs to a user.
	CreateUser(ctx context.Context, u NewUser) (int64, error)
	subscriptionWriter
}

// RegisterUserHandler handles RegisterUser: *stockalert.ValidationError for bad input,
// stockalert.ErrConflict when the e-mail is taken.
type RegisterUserHandler decorator.CommandHandler[RegisterUser]

// NewRegisterUserHandler builds the handler over store; CheckSymbols makes it check a new symbol
// against the quote source first.
func NewRegisterUserHandler(store UserRegistrar, logger *slog.Logger, m *decorator.Metrics, opts ...Option) RegisterUserHandler {
	return decorator.ApplyCommand[RegisterUser](registerUserHandler{store, newOptions(opts).check}, logger, m)
}

type registerUserHandler struct {
	store UserRegistrar
	check symbolCheck
}

func (h registerUserHandler) Handle(ctx context.Context, cmd RegisterUser) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	var ticker stockalert.Ticker
	if cmd.Ticker != "" {
		if ticker, err = stockalert.ParseTicker(cmd.Ticker); err != nil {
			return err
		}
	} else if cmd.Thresholds.High != nil || cmd.Thresholds.Low != nil {
		return stockalert.Invalid("ticker", "is required with high_value or low_value: a threshold is a ticker's")
	}
	if err := cmd.Thresholds.Validate(); err != nil {
		return err
	}
	if cmd.TelegramChatID != nil {
		if err := stockalert.ValidateChatID(*cmd.TelegramChatID); err != nil {
			return err
		}
	}
	if cmd.TokenHash == "" || cmd.LinkCodeHash == "" {
		return fmt.Errorf("register %s: token and link code hashes are required", email)
	}
	u := NewUser{
		Email:          email,
		TelegramChatID: cmd.TelegramChatID,
		TokenHash:      cmd.TokenHash,
		LinkCodeHash:   cmd.LinkCodeHash,
		NotifyInterval: int64(stockalert.DefaultNotifyInterval.Seconds()),
	}
	unverified, err := h.check.verify(ctx, ticker)
	if err != nil {
		return fmt.Errorf("register %s: %w", email, err)
	}
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		id, err := h.store.CreateUser(ctx, u)
		if err != nil {
			return fmt.Errorf("register %s: %w", email, err)
		}
		if ticker == "" {
			return nil
		}
		if err := h.store.PutSubscription(ctx, id, ticker, cmd.Thresholds); err != nil {
			return fmt.Errorf("register %s: subscribe %s: %w", email, ticker, err)
		}
		if err := h.check.record(ctx, ticker, unverified); err != nil {
			return fmt.Errorf("register %s: %w", email, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	attrs := []slog.Attr{slog.String("event", "user-registered"), slog.String("email", string(email))}
	if ticker != "" {
		attrs = append(attrs, slog.String("ticker", string(ticker)))
	}
	if cmd.TelegramChatID != nil {
		attrs = append(attrs, slog.Int64("chat", *cmd.TelegramChatID))
	}
	decorator.Report(ctx, slog.LevelInfo, "user registered", attrs...)
	return nil
}
