// Package telegram is the outbound Telegram Bot API adapter: it sends messages through the Bot API with
// github.com/go-telegram/bot (Sender), as plain text (no parse mode: nothing needs escaping). Alert
// texts are rendered by shared/alertmessage, for every channel. The bot's inbound webhook is an edge
// of its own, shared/edge/telegrambot.
//
// Send sorts every failure into one of four classes, so the notifier can map them to a Kafka
// acknowledgement in one place:
//
//   - *ChatMigratedError (400 with parameters.migrate_to_chat_id): the group became a supergroup with a
//     new chat id; send to ChatMigratedError.To instead. It is not undeliverable (the message can be
//     delivered, elsewhere), and it wraps ErrTransient, so a caller that does not know the class
//     retries rather than drops the message: once the link has moved, the retry succeeds.
//   - *RetryAfterError (429): Telegram asks us to wait After before sending again. It also wraps
//     ErrTransient.
//   - ErrUndeliverable: this message will never be accepted (a 400 or 403). Retrying is useless.
//     ErrChatGone, which wraps ErrUndeliverable, narrows it to the chat itself: not found, bot blocked
//     or kicked, user deactivated.
//   - ErrTransient: everything else (5xx, network errors, timeouts, an unreadable answer). Send again
//     later. ErrMisconfigured, which wraps ErrTransient, narrows it to Telegram refusing the bot
//     itself (401 or 404: a wrong token or API URL): nothing will get through until an operator fixes
//     the configuration.
package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// DefaultAPIURL is the Bot API's address.
const DefaultAPIURL = "https://api.telegram.org"

// DefaultTimeout bounds one Send when WithTimeout is not given.
const DefaultTimeout = 10 * time.Second

// MaxMessageLen is the longest text Telegram accepts, in UTF-16 code units.
const MaxMessageLen = 4096

// The error classes of Send; see the package documentation.
var (
	ErrUndeliverable = stockalert.ErrUndeliverable
	ErrChatGone      = fmt.Errorf("chat gone: %w", ErrUndeliverable)
	ErrTransient     = errors.New("transient failure")
	ErrMisconfigured = fmt.Errorf("bot rejected, check the token and API URL: %w", ErrTransient)
)

// RetryAfterError is Telegram's flood control (429): wait After before sending again. It wraps
// ErrTransient.
type RetryAfterError struct {
	After       time.Duration
	Description string
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("too many requests, retry after %s: %s", e.After, e.Description)
}

// RetryAfter returns how long Telegram asked to wait.
func (e *RetryAfterError) RetryAfter() time.Duration { return e.After }

// Unwrap makes errors.Is(err, ErrTransient) hold.
func (e *RetryAfterError) Unwrap() error { return ErrTransient }

// ChatMigratedError is Telegram's answer to a message for a group that was upgraded to a supergroup:
// 400 "Bad Request: group chat was upgraded to a supergroup chat" with the supergroup's id in
// parameters.migrate_to_chat_id (Bot API, ResponseParameters). From is the old (dead) chat id, To the
// new one. It wraps ErrTransient and never ErrUndeliverable.
type ChatMigratedError struct {
	From, To    int64
	Description string
}

func (e *ChatMigratedError) Error() string {
	return fmt.Sprintf("chat %d migrated to chat %d: %s", e.From, e.To, e.Description)
}

// MigratedTo returns the chat id the messages for From must go to now.
func (e *ChatMigratedError) MigratedTo() (from, to int64) { return e.From, e.To }

// Unwrap makes errors.Is(err, ErrTransient) hold.
func (e *ChatMigratedError) Unwrap() error { return ErrTransient }

// Sender sends text messages as one bot. It is safe for concurrent use.
type Sender struct {
	bot     *bot.Bot
	timeout time.Duration
}

type options struct {
	timeout time.Duration
	client  *http.Client
	logger  *slog.Logger
}

// Option configures NewSender.
type Option func(*options)

// WithTimeout bounds each Send (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient sets the HTTP client (default: a plain client; Send's context bounds each call).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger receives the bot library's internal errors (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// NewSender returns a Sender for the bot with token, talking to apiURL (DefaultAPIURL when empty). It
// makes no network call. It returns an error when the token is malformed (without repeating it) or
// apiURL is not an http(s) URL.
func NewSender(token, apiURL string, opts ...Option) (*Sender, error) {
	o := options{timeout: DefaultTimeout, client: &http.Client{}, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if !tokenPattern.MatchString(token) {
		return nil, errors.New("telegram bot token is malformed: want <bot id>:<secret>")
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram API URL %q is not an http(s) URL", apiURL)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("telegram send timeout %s must be positive", o.timeout)
	}
	logger := o.logger
	b, err := bot.New(token,
		bot.WithServerURL(strings.TrimSuffix(apiURL, "/")),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(o.timeout, o.client),
		bot.WithErrorsHandler(func(err error) { logger.Warn("telegram client error", "err", err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	return &Sender{bot: b, timeout: o.timeout}, nil
}

// Send sends text, as plain text, to chatID, with keyboard's rows of buttons under it (an inline
// keyboard whose buttons carry callback_data) when given.
//
// Errors: *ChatMigratedError when the group became a supergroup (nothing was sent; send to its To);
// *RetryAfterError on flood control; an error wrapping ErrUndeliverable (and, when the chat
// itself is unreachable, ErrChatGone) if Telegram refuses the message for good, or if chatID is 0 or
// text is empty or too long (then also a *stockalert.ValidationError; nothing is sent); an error
// wrapping ErrTransient otherwise (and ErrMisconfigured when the bot itself is refused, and ctx's error
// when ctx ended).
func (s *Sender) Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error {
	if err := validate(chatID, text); err != nil {
		return fmt.Errorf("telegram send to chat %d: %w: %w", chatID, ErrUndeliverable, err)
	}
	params := &bot.SendMessageParams{ChatID: chatID, Text: text}
	if len(keyboard) > 0 {
		markup, err := inlineKeyboard(keyboard)
		if err != nil {
			return fmt.Errorf("telegram send to chat %d: %w: %w", chatID, ErrUndeliverable, err)
		}
		params.ReplyMarkup = markup
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.bot.SendMessage(ctx, params)
	if err != nil {
		return fmt.Errorf("telegram send to chat %d: %w", chatID, classify(chatID, err))
	}
	return nil
}

// MaxCaptionLen is the longest photo caption Telegram accepts, in UTF-16 code units (Bot API,
// sendPhoto: caption 0-1024 characters).
const MaxCaptionLen = 1024

// SendPhoto sends png as a photo to chatID (Bot API sendPhoto, the file uploaded as
// multipart/form-data through go-telegram/bot's InputFileUpload) with caption under it (plain text,
// at most MaxCaptionLen).
//
// Errors are classified as Send's; an empty picture, a caption too long or chatID 0 is an error
// wrapping ErrUndeliverable and a *stockalert.ValidationError (nothing is sent).
func (s *Sender) SendPhoto(ctx context.Context, chatID int64, png []byte, caption string) error {
	if err := stockalert.ValidateChatID(chatID); err != nil {
		return fmt.Errorf("telegram send photo to chat %d: %w: %w", chatID, ErrUndeliverable, err)
	}
	if len(png) == 0 {
		return fmt.Errorf("telegram send photo to chat %d: %w: %w", chatID, ErrUndeliverable, stockalert.Invalid("photo", "is empty"))
	}
	if n := len(utf16.Encode([]rune(caption))); n > MaxCaptionLen {
		return fmt.Errorf("telegram send photo to chat %d: %w: %w", chatID, ErrUndeliverable,
			stockalert.Invalid("caption", "is %d characters long, the limit is %d", n, MaxCaptionLen))
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.bot.SendPhoto(ctx, &bot.SendPhotoParams{
		ChatID:  chatID,
		Photo:   &models.InputFileUpload{Filename: "chart.png", Data: bytes.NewReader(png)},
		Caption: caption,
	})
	if err != nil {
		return fmt.Errorf("telegram send photo to chat %d: %w", chatID, classify(chatID, err))
	}
	return nil
}

// inlineMarkup is an InlineKeyboardMarkup of callback buttons (Bot API). It is ours rather than
// go-telegram/bot's models.InlineKeyboardMarkup because that type's buttons always carry a
// "copy_text" object (a struct field that omitempty cannot leave out), and a button must carry
// exactly one action.
type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// inlineKeyboard builds the reply_markup of keyboard's rows, or a *stockalert.ValidationError for a
// button without a label or with callback data Telegram refuses (empty, or over
// stockalert.MaxButtonData bytes).
func inlineKeyboard(rows [][]stockalert.ChatButton) (*inlineMarkup, error) {
	markup := &inlineMarkup{InlineKeyboard: make([][]inlineButton, 0, len(rows))}
	for _, row := range rows {
		out := make([]inlineButton, 0, len(row))
		for _, b := range row {
			if b.Text == "" || b.Data == "" || len(b.Data) > stockalert.MaxButtonData {
				return nil, stockalert.Invalid("keyboard", "button %q: a label and 1 to %d bytes of data are required", b.Text, stockalert.MaxButtonData)
			}
			out = append(out, inlineButton{Text: b.Text, CallbackData: b.Data})
		}
		markup.InlineKeyboard = append(markup.InlineKeyboard, out)
	}
	return markup, nil
}

func validate(chatID int64, text string) error {
	if err := stockalert.ValidateChatID(chatID); err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return stockalert.Invalid("text", "is empty")
	}
	if n := len(utf16.Encode([]rune(text))); n > MaxMessageLen {
		return stockalert.Invalid("text", "is %d characters long, the limit is %d", n, MaxMessageLen)
	}
	return nil
}

// chatGone are (lower-cased) fragments of 400 descriptions that mean the chat cannot be written to.
var chatGone = []string{"chat not found", "user not found", "peer_id_invalid", "user is deactivated",
	"bot was kicked", "bot was blocked", "not enough rights", "have no rights", "chat_write_forbidden",
	"group chat was upgraded"} // the last only when Telegram gave no migrate_to_chat_id

// classify maps an error of go-telegram/bot to our classes, keeping it in the chain.
func classify(chatID int64, err error) error {
	var tooMany *bot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		after := time.Duration(tooMany.RetryAfter) * time.Second
		if after <= 0 {
			after = time.Second // Telegram's per-chat pace
		}
		return &RetryAfterError{After: after, Description: tooMany.Message}
	}
	var migrated *bot.MigrateError
	if errors.As(err, &migrated) && migrated.MigrateToChatID != 0 && int64(migrated.MigrateToChatID) != chatID {
		return &ChatMigratedError{From: chatID, To: int64(migrated.MigrateToChatID), Description: migrated.Message}
	}
	switch {
	case errors.Is(err, bot.ErrorForbidden):
		return fmt.Errorf("%w: %w", ErrChatGone, err)
	case errors.Is(err, bot.ErrorBadRequest):
		msg := strings.ToLower(err.Error())
		for _, frag := range chatGone {
			if strings.Contains(msg, frag) {
				return fmt.Errorf("%w: %w", ErrChatGone, err)
			}
		}
		return fmt.Errorf("%w: %w", ErrUndeliverable, err)
	case errors.Is(err, bot.ErrorUnauthorized), errors.Is(err, bot.ErrorNotFound):
		return fmt.Errorf("%w: %w", ErrMisconfigured, err)
	}
	return fmt.Errorf("%w: %w", ErrTransient, err)
}

// AnswerCallbackQuery answers the callback query id (a button press), showing text to the user who
// pressed it as a notification at the top of the chat (Bot API, answerCallbackQuery; text 0-200
// characters). Telegram shows a progress bar on the button until the query is answered. Errors are
// classified as Send's.
func (s *Sender) AnswerCallbackQuery(ctx context.Context, id, text string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.bot.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text}); err != nil {
		return fmt.Errorf("telegram answer callback query: %w", classify(0, err))
	}
	return nil
}

// ChatMemberStatus returns the status of user userID in chat chatID (Bot API, getChatMember:
// "creator", "administrator", "member", "restricted", "left" or "kicked"). Errors are classified as
// Send's.
func (s *Sender) ChatMemberStatus(ctx context.Context, chatID, userID int64) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	m, err := s.bot.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: chatID, UserID: userID})
	if err != nil {
		return "", fmt.Errorf("telegram get chat member %d of %d: %w", userID, chatID, classify(chatID, err))
	}
	return string(m.Type), nil
}

// BotCommand is one entry of the bot's command menu (Bot API, BotCommand): Command without the "/",
// 1-32 characters a-z 0-9 _, and a Description of 1-256 characters.
type BotCommand struct {
	Command     string
	Description string
}

// Command menu scopes (Bot API, BotCommandScope).
const (
	ScopePrivateChats = "all_private_chats"
	ScopeGroupChats   = "all_group_chats"
)

// SetMyCommands sets the command list Telegram shows in the "/" menu of the chats of scope
// (ScopePrivateChats or ScopeGroupChats; Bot API, setMyCommands). Errors are classified as Send's.
func (s *Sender) SetMyCommands(ctx context.Context, scope string, commands []BotCommand) error {
	var sc models.BotCommandScope
	switch scope {
	case ScopePrivateChats:
		sc = &models.BotCommandScopeAllPrivateChats{}
	case ScopeGroupChats:
		sc = &models.BotCommandScopeAllGroupChats{}
	default:
		return fmt.Errorf("telegram set my commands: unknown scope %q", scope)
	}
	cmds := make([]models.BotCommand, len(commands))
	for i, c := range commands {
		cmds[i] = models.BotCommand{Command: c.Command, Description: c.Description}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.bot.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds, Scope: sc}); err != nil {
		return fmt.Errorf("telegram set my commands (%s): %w", scope, classify(0, err))
	}
	return nil
}
