// Package telegrambot is the Telegram bot's webhook edge: an http.Handler that takes the Bot API's
// update deliveries (checking X-Telegram-Bot-Api-Secret-Token), runs the chat commands (/start,
// /register, /token, /watch, /alerts, /price, /tz, /quiet, /status, /help, … : the command table in
// commands.go) and the presses of its buttons against the command and query handlers, replies in the
// chat, and maps every outcome to the status Telegram acts on in one place (2xx: done; 5xx: deliver again). It
// also follows a group that Telegram upgraded to a supergroup (the service messages carrying
// migrate_to_chat_id and migrate_from_chat_id), moving the chat's link without a word in either chat.
package telegrambot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// maxMessageLen is the longest text sendMessage accepts, in UTF-16 code units (Telegram Bot API,
// sendMessage: "1-4096 characters after entities parsing").
const maxMessageLen = 4096

// SecretTokenHeader carries the secret_token given to setWebhook on every webhook delivery.
const SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token" //nolint:gosec // G101: a header name, not a credential

// DefaultWebhookMaxBody bounds an update's body when WebhookConfig.MaxBodyBytes is not set. A text
// update is a few kilobytes at most.
const DefaultWebhookMaxBody = 1 << 20

// rememberedFaults is how many update ids a Webhook remembers having apologised for.
const rememberedFaults = 1024

var (
	secretTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	usernamePattern    = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
	commandNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
)

// ReplySender sends the bot's answers: a *Sender, possibly wrapped in NewRetryAfter. An error wrapping
// stockalert.ErrUndeliverable means the chat will never take the message; any other error is transient.
type ReplySender interface {
	Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error
}

// BotAPI is what the webhook asks the Bot API besides sending messages.
type BotAPI interface {
	// AnswerCallbackQuery answers a button press with a short notice.
	AnswerCallbackQuery(ctx context.Context, id, text string) error
	// ChatMemberStatus returns a user's status in a chat ("creator", "administrator", "member", …).
	ChatMemberStatus(ctx context.Context, chatID, userID int64) (string, error)
}

// WebhookConfig is what NewWebhook needs.
type WebhookConfig struct {
	// SecretToken is the secret_token given to setWebhook (1 to 256 characters A-Z a-z 0-9 _ -): every
	// delivery must carry it in X-Telegram-Bot-Api-Secret-Token. Required unless AllowNoSecret is set.
	SecretToken string
	// AllowNoSecret lets an empty SecretToken accept every delivery unchecked, for local development
	// only (NewWebhook logs a warning). It has no effect when SecretToken is set.
	AllowNoSecret bool
	// BotUsername is the bot's @username (with or without the @). Commands addressed to another bot
	// ("/stop@otherbot", common in groups) are ignored; without a username every addressed command is,
	// since it cannot be told apart from one for another bot.
	BotUsername string

	// The use cases the commands dispatch to. All are required.
	Link        command.LinkTelegramHandler
	SetInterval command.SetNotifyIntervalHandler
	SetPaused   command.SetPausedHandler
	Status      query.ChatProfileHandler
	// Register creates an account bound to the chat (/register), RotateToken replaces its API token
	// (/token), and CodeHolder names the account a link code belongs to (asked before /start <code>
	// moves a chat linked to another account).
	Register    command.RegisterUserHandler
	RotateToken command.RotateTokenHandler
	CodeHolder  query.LinkCodeHolderHandler
	// MoveChat follows a group upgraded to a supergroup (Message.migrate_to_chat_id in the old group,
	// Message.migrate_from_chat_id in the new supergroup).
	MoveChat command.MoveTelegramChatHandler

	// The rules in the chat (/watch, /alerts, /delete, /unwatch, /history) and the alert buttons
	// (Snooze 1h, Delete alert). All are required.
	CreateRule  command.CreateRuleHandler
	Subscribe   command.SubscribeHandler
	DeleteRule  command.DeleteRuleHandler
	Unsubscribe command.UnsubscribeHandler
	SnoozeRule  command.SnoozeRuleHandler
	Rules       query.RulesHandler
	History     query.AlertHistoryHandler
	// Quotes, time zone and quiet hours (/price, /tz, /quiet). All are required.
	Prices        query.CurrentQuotesHandler
	SetTimeZone   command.SetTimeZoneHandler
	SetQuietHours command.SetQuietHoursHandler

	// The channels in the chat (/channels): their states, and turning them on or off. Both required.
	Channels      query.ChannelStatesHandler
	EnableChannel command.EnableChannelHandler
	// VerifyEmail confirms an e-mail address with the code of its verification mail (/verify <code>).
	// Optional: without it /verify says e-mail is not set up here.
	VerifyEmail command.VerifyEmailHandler
	// WebLogin issues the web dashboard's one-time sign-in codes (/web), linking to DashboardURL (the
	// dashboard's public address, e.g. https://faas.example.com/function/dashboard). Optional: without
	// both, /web says the dashboard is not set up here.
	WebLogin     command.IssueWebLoginHandler
	DashboardURL string

	// Chart draws /chart's and the alerts' "Chart" button's pictures, and Photos sends them. Optional:
	// without both, /chart says charts are not set up.
	Chart  query.ChartHandler
	Photos PhotoSender

	// Replies sends the answers. Required.
	Replies ReplySender
	// Bot answers button presses and tells group administrators apart (a *telegram.Sender). Without
	// it, button presses are ignored and, in groups, only anonymous administrators may change the
	// account.
	Bot BotAPI
	// Logger receives the webhook's log lines (default: discarded).
	Logger *slog.Logger
	// MaxBodyBytes bounds an update (default DefaultWebhookMaxBody).
	MaxBodyBytes int64
	// Now is the clock /status formats times against (default time.Now).
	Now func() time.Time
}

// Webhook is the bot's webhook: an http.Handler that takes Telegram's update deliveries, runs the
// commands in them and replies in the chat. Build it with NewWebhook. It is safe for concurrent use.
//
// Answers, and so whether Telegram delivers an update again (it repeats every delivery not answered
// with a 2xx, then gives up after a while):
//   - 401 for a wrong or missing secret token, 405 for a method other than POST, 413 for a body over
//     the limit and 400 for a body that is not a Telegram update at all: nothing is run. Telegram
//     itself never sends these.
//   - 200 once the update is handled: the command ran (or was refused for the user's input or the
//     chat's state, which the reply explains) and the reply was sent or can never be (the bot was
//     blocked). Also 200 for what the bot ignores: updates other than new messages, messages that are
//     not commands, commands for other bots, and updates that are valid JSON but that the update model
//     cannot decode (delivering them again cannot help).
//   - 200 for a group's migration service message once the chat's link has moved (no reply is sent).
//   - 500 when the command failed on our side (the database, say), and 502 when the command ran but
//     its reply could not be sent for now: Telegram delivers the update again. Every command is safe to
//     run twice; see replies.go for how a repeated /start and a repeated failure are answered.
type Webhook struct {
	secret      [sha256.Size]byte
	checkSecret bool
	username    string
	link        command.LinkTelegramHandler
	setInterval command.SetNotifyIntervalHandler
	setPaused   command.SetPausedHandler
	status      query.ChatProfileHandler
	moveChat    command.MoveTelegramChatHandler
	rules       ruleHandlers
	register    command.RegisterUserHandler
	rotateToken command.RotateTokenHandler
	codeHolder  query.LinkCodeHolderHandler
	prices      query.CurrentQuotesHandler
	chart       query.ChartHandler
	photos      PhotoSender
	setZone     command.SetTimeZoneHandler
	setQuiet    command.SetQuietHoursHandler
	channels    channelHandlers
	verifyEmail command.VerifyEmailHandler
	webLogin    command.IssueWebLoginHandler
	dashboard   string
	replies     ReplySender
	bot         BotAPI
	commands    map[string]commandSpec
	callbacks   map[string]callbackSpec
	logger      *slog.Logger
	maxBody     int64
	now         func() time.Time
	apologised  *idSet
}

// NewWebhook checks cfg and builds the webhook. It returns an error naming the setting at fault: no
// secret token without AllowNoSecret, a secret token Telegram would refuse, a malformed bot username,
// or a missing handler or reply sender.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.SecretToken == "" && !cfg.AllowNoSecret:
		return nil, errors.New("telegram webhook: a secret token is required (the secret_token given to setWebhook); " +
			"set AllowNoSecret only for local development")
	case cfg.SecretToken != "" && !secretTokenPattern.MatchString(cfg.SecretToken):
		return nil, errors.New("telegram webhook: the secret token must be 1 to 256 characters A-Z, a-z, 0-9, _ and -")
	case cfg.Link == nil || cfg.SetInterval == nil || cfg.SetPaused == nil || cfg.Status == nil || cfg.MoveChat == nil:
		return nil, errors.New("telegram webhook: the Link, SetInterval, SetPaused, Status and MoveChat handlers are required")
	case cfg.CreateRule == nil || cfg.Subscribe == nil || cfg.DeleteRule == nil || cfg.Unsubscribe == nil ||
		cfg.SnoozeRule == nil || cfg.Rules == nil || cfg.History == nil:
		return nil, errors.New("telegram webhook: the CreateRule, Subscribe, DeleteRule, Unsubscribe, SnoozeRule, Rules and History handlers are required")
	case cfg.Register == nil || cfg.RotateToken == nil || cfg.CodeHolder == nil:
		return nil, errors.New("telegram webhook: the Register, RotateToken and CodeHolder handlers are required")
	case cfg.Prices == nil || cfg.SetTimeZone == nil || cfg.SetQuietHours == nil:
		return nil, errors.New("telegram webhook: the Prices, SetTimeZone and SetQuietHours handlers are required")
	case cfg.Channels == nil || cfg.EnableChannel == nil:
		return nil, errors.New("telegram webhook: the Channels and EnableChannel handlers are required")
	case cfg.Replies == nil:
		return nil, errors.New("telegram webhook: a reply sender is required")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("telegram webhook: max body bytes %d must not be negative", cfg.MaxBodyBytes)
	}
	username := strings.TrimPrefix(cfg.BotUsername, "@")
	if username != "" && !usernamePattern.MatchString(username) {
		return nil, fmt.Errorf("telegram webhook: bot username %q is not a Telegram username", cfg.BotUsername)
	}
	w := &Webhook{
		secret:      sha256.Sum256([]byte(cfg.SecretToken)),
		checkSecret: cfg.SecretToken != "",
		username:    username,
		link:        cfg.Link,
		setInterval: cfg.SetInterval,
		setPaused:   cfg.SetPaused,
		status:      cfg.Status,
		moveChat:    cfg.MoveChat,
		rules: ruleHandlers{create: cfg.CreateRule, subscribe: cfg.Subscribe, delete: cfg.DeleteRule,
			unsubscribe: cfg.Unsubscribe, snooze: cfg.SnoozeRule, list: cfg.Rules, history: cfg.History},
		prices:      cfg.Prices,
		chart:       cfg.Chart,
		photos:      cfg.Photos,
		setZone:     cfg.SetTimeZone,
		setQuiet:    cfg.SetQuietHours,
		channels:    channelHandlers{states: cfg.Channels, enable: cfg.EnableChannel},
		verifyEmail: cfg.VerifyEmail,
		webLogin:    cfg.WebLogin,
		dashboard:   strings.TrimRight(cfg.DashboardURL, "/"),
		replies:     cfg.Replies,
		bot:         cfg.Bot,
		logger:      logger,
		maxBody:     cfg.MaxBodyBytes,
		now:         cfg.Now,
		apologised:  newIDSet(rememberedFaults),
		register:    cfg.Register,
		rotateToken: cfg.RotateToken,
		codeHolder:  cfg.CodeHolder,
	}
	if w.maxBody == 0 {
		w.maxBody = DefaultWebhookMaxBody
	}
	w.commands, w.callbacks = w.table(), w.callbackTable()
	if w.now == nil {
		w.now = time.Now
	}
	if !w.checkSecret {
		logger.Warn("telegram webhook accepts updates without a secret token: anyone who can reach it can act as any chat; for local development only")
	}
	if username == "" {
		logger.Warn("telegram bot username not set: commands addressed as /command@bot are ignored")
	}
	return w, nil
}

// ServeHTTP handles one delivery; see Webhook for the statuses.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	faas.SetRoute(r, "webhook")
	ignored, err := h.serve(w, r)
	h.respond(w, r, ignored, err)
}

// What can go wrong with a delivery, besides httpjson.ErrBodyTooLarge and stockalert.ErrUndeliverable;
// respond maps each to its status.
var (
	errMethod        = errors.New("use POST: Telegram delivers updates with POST")
	errUnauthorized  = errors.New("wrong or missing " + SecretTokenHeader)
	errUnreadable    = errors.New("could not read the update")
	errNotAnUpdate   = errors.New("not a Telegram update: a JSON object with an update_id is expected")
	errUndecodable   = errors.New("undecodable update")
	errCommandFailed = errors.New("command failed; deliver it again")
	errReplyFailed   = errors.New("reply not sent; deliver the update again")
)

// updateError names the update, chat and command an error of handle came from, so that respond logs
// them as fields (update_id, chat, command).
type updateError struct {
	updateID, chat int64
	command        string
	err            error
}

func (e *updateError) Error() string {
	return fmt.Sprintf("update %d, chat %d, /%s: %v", e.updateID, e.chat, e.command, e.err)
}

func (e *updateError) Unwrap() error { return e.err }

// updateAttrs are the log fields of one update's command.
func updateAttrs(updateID, chat int64, command string) []any {
	return []any{slog.Int64("update_id", updateID), slog.Int64("chat", chat), slog.String("command", command)}
}

// serve checks, reads and runs one delivery. It returns what was ignored (empty when the update was
// handled), or an error wrapping one of the errors respond maps.
func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		return "", errMethod
	}
	if !h.authorized(r) {
		return "", errUnauthorized
	}
	body, err := httpjson.ReadBody(w, r, h.maxBody)
	if errors.Is(err, httpjson.ErrBodyTooLarge) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", errUnreadable, err)
	}
	upd, err := decodeUpdate(body)
	if err != nil {
		return "", err
	}
	return h.handle(r.Context(), upd)
}

// respond is the one place a delivery's outcome becomes the status Telegram acts on (see Webhook). The
// error chain is logged, never sent: the answer carries only the text of the error respond matched.
func (h *Webhook) respond(w http.ResponseWriter, r *http.Request, ignored string, err error) {
	ctx := r.Context()
	log := h.logger
	if ue, ok := errors.AsType[*updateError](err); ok {
		log = log.With(updateAttrs(ue.updateID, ue.chat, ue.command)...)
	}
	switch {
	case err == nil:
		writeOK(w, ignored)
	case errors.Is(err, errMethod):
		w.Header().Set("Allow", http.MethodPost)
		httpjson.WriteError(w, http.StatusMethodNotAllowed, errMethod.Error(), "")
	case errors.Is(err, errUnauthorized):
		log.WarnContext(ctx, "telegram webhook: delivery refused: wrong or missing secret token",
			slog.String("remote", r.RemoteAddr))
		httpjson.WriteError(w, http.StatusUnauthorized, errUnauthorized.Error(), "")
	case errors.Is(err, httpjson.ErrBodyTooLarge):
		httpjson.WriteBodyTooLarge(w, err)
	case errors.Is(err, errUnreadable):
		log.WarnContext(ctx, "telegram webhook: delivery refused", slog.String("err", err.Error()))
		httpjson.WriteError(w, http.StatusBadRequest, errUnreadable.Error(), "body")
	case errors.Is(err, errNotAnUpdate):
		httpjson.WriteError(w, http.StatusBadRequest, errNotAnUpdate.Error(), "body")
	case errors.Is(err, errUndecodable):
		// Telegram sent JSON our update model cannot read (a field changed type, say): no redelivery
		// will read better, so acknowledge it rather than have Telegram retry and hold the chat's later
		// updates back.
		log.ErrorContext(ctx, "telegram webhook: update dropped: cannot decode it", slog.String("err", err.Error()))
		writeOK(w, errUndecodable.Error())
	case errors.Is(err, errCommandFailed):
		log.ErrorContext(ctx, "telegram webhook: command failed; Telegram will deliver it again", slog.String("err", err.Error()))
		httpjson.WriteError(w, http.StatusInternalServerError, errCommandFailed.Error(), "")
	case errors.Is(err, errReplyFailed) && errors.Is(err, stockalert.ErrUndeliverable):
		log.WarnContext(ctx, "telegram webhook: reply undeliverable; dropped", slog.String("err", err.Error()))
		writeOK(w, "")
	case errors.Is(err, errReplyFailed):
		log.ErrorContext(ctx, "telegram webhook: reply failed; Telegram will deliver the update again", slog.String("err", err.Error()))
		httpjson.WriteError(w, http.StatusBadGateway, errReplyFailed.Error(), "")
	default: // nothing else is expected; Telegram delivers the update again
		log.ErrorContext(ctx, "telegram webhook: delivery failed", slog.String("err", err.Error()))
		httpjson.WriteError(w, http.StatusInternalServerError, "internal error", "")
	}
}

// authorized compares the secret token in constant time (of hashes, so its length does not leak).
func (h *Webhook) authorized(r *http.Request) bool {
	if !h.checkSecret {
		return true
	}
	got := sha256.Sum256([]byte(r.Header.Get(SecretTokenHeader)))
	return subtle.ConstantTimeCompare(got[:], h.secret[:]) == 1
}

func decodeUpdate(body []byte) (models.Update, error) {
	var head struct {
		ID *int64 `json:"update_id"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.ID == nil {
		return models.Update{}, errNotAnUpdate
	}
	var upd models.Update
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&upd); err != nil {
		return models.Update{}, fmt.Errorf("%w %d: %w", errUndecodable, *head.ID, err)
	}
	return upd, nil
}

func writeOK(w http.ResponseWriter, note string) {
	httpjson.WriteJSON(w, http.StatusOK, struct {
		OK      bool   `json:"ok"`
		Ignored string `json:"ignored,omitempty"`
	}{true, note})
}

// botCommand is a command as a user typed it: "/Set@StockAlertBot  60" is name "set", args ["60"].
type botCommand struct {
	name string
	args []string
	// addressed: the command named this bot (/cmd@ourbot).
	addressed bool
}

// parseCommand reads a command from a message's text: a leading /name, optionally @botname, then
// arguments separated by white space. ok is false for text that is not a command or names another bot.
func parseCommand(text, username string) (cmd botCommand, ok bool) {
	fields := strings.Fields(text)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return botCommand{}, false
	}
	name, to, addressed := strings.Cut(fields[0][1:], "@")
	if !commandNamePattern.MatchString(name) {
		return botCommand{}, false
	}
	if addressed && (username == "" || !strings.EqualFold(to, username)) {
		return botCommand{}, false
	}
	return botCommand{name: strings.ToLower(name), args: fields[1:], addressed: addressed}, true
}

// handle runs what an update carries (a command in a message, or a button press) and replies. It
// returns what was ignored (empty when the update was handled), or an error wrapping errCommandFailed
// (the command failed on our side; the chat was told once) or errReplyFailed (the reply could not be
// sent; with stockalert.ErrUndeliverable when it never can be).
func (h *Webhook) handle(ctx context.Context, upd models.Update) (string, error) {
	if upd.CallbackQuery != nil {
		return h.handleCallback(ctx, upd.ID, upd.CallbackQuery)
	}
	msg := upd.Message
	if msg == nil {
		return "not a new message", nil
	}
	if from, to, ok := migration(msg); ok {
		return h.migrate(ctx, upd.ID, from, to)
	}
	req := newRequest(upd.ID, msg)
	cmd, ok := parseCommand(msg.Text, h.username)
	switch {
	case ok:
	case req.private && strings.TrimSpace(msg.Text) != "" && !strings.HasPrefix(strings.TrimSpace(msg.Text), "/"):
		cmd = botCommand{name: plainTextCommand}
	default:
		return "not a command for this bot", nil
	}
	req.botCommand = cmd
	spec, known := h.commands[cmd.name]
	if !known && !req.private && !cmd.addressed {
		// In a group a bare unknown command is most likely another bot's: stay quiet.
		return "unknown command in a group", nil
	}
	log := h.logger.With(updateAttrs(upd.ID, req.chatID, cmd.name)...)
	fail := func(kind, err error) error {
		return &updateError{updateID: upd.ID, chat: req.chatID, command: cmd.name, err: fmt.Errorf("%w: %w", kind, err)}
	}

	out, err := h.dispatch(ctx, req, spec, known)
	if err != nil {
		text, fault := errorReply(cmd, err)
		if fault {
			// Say so once per update, not at every redelivery.
			if !h.apologised.has(upd.ID) {
				if serr := h.replies.Send(ctx, req.chatID, text); serr != nil {
					log.WarnContext(ctx, "telegram webhook: could not send the apology", slog.String("err", serr.Error()))
				} else {
					h.apologised.add(upd.ID)
				}
			}
			return "", fail(errCommandFailed, err)
		}
		out = answer{text: text}
	}
	if serr := h.send(ctx, req.chatID, out); serr != nil {
		return "", fail(errReplyFailed, serr)
	}
	log.DebugContext(ctx, "telegram webhook: command handled")
	return "", nil
}

// send sends a reply: a photo with its caption, or one message, or, past Telegram's message length,
// several (split between lines), the keyboard under the last.
func (h *Webhook) send(ctx context.Context, chatID int64, out answer) error {
	if out.photo != nil {
		return h.photos.SendPhoto(ctx, chatID, out.photo, out.text)
	}
	parts := splitMessage(out.text, maxMessageLen)
	for i, part := range parts {
		var kb [][]stockalert.ChatButton
		if i == len(parts)-1 {
			kb = out.keyboard
		}
		if err := h.replies.Send(ctx, chatID, part, kb...); err != nil {
			return err
		}
	}
	return nil
}

// migration reads a group's migration service message: in the old group it carries migrate_to_chat_id,
// in the new supergroup migrate_from_chat_id (Telegram Bot API, Message).
func migration(msg *models.Message) (from, to int64, ok bool) {
	switch {
	case msg.MigrateToChatID != 0:
		return msg.Chat.ID, msg.MigrateToChatID, true
	case msg.MigrateFromChatID != 0:
		return msg.MigrateFromChatID, msg.Chat.ID, true
	}
	return 0, 0, false
}

// migrate moves the link of chat from to chat to, saying nothing in either chat. Telegram sends both
// service messages (and a refused sendMessage may have moved the link already): the later ones change
// nothing. A message whose ids make no sense is ignored; a store fault has Telegram deliver it again.
func (h *Webhook) migrate(ctx context.Context, updateID, from, to int64) (string, error) {
	err := h.moveChat.Handle(ctx, command.MoveTelegramChat{From: from, To: to})
	if _, invalid := stockalert.AsValidation(err); invalid {
		return "migration with invalid chat ids", nil
	}
	if err != nil {
		return "", fmt.Errorf("update %d, chat %d migrated to %d: %w: %w", updateID, from, to, errCommandFailed, err)
	}
	h.logger.DebugContext(ctx, "telegram webhook: chat migration followed", slog.Int64("from_chat_id", from), slog.Int64("to_chat_id", to))
	return "", nil
}

// idSet is a bounded set of update ids: the oldest is forgotten when it is full.
type idSet struct {
	mu    sync.Mutex
	ids   map[int64]struct{}
	order []int64
	next  int
}

func newIDSet(capacity int) *idSet {
	return &idSet{ids: make(map[int64]struct{}, capacity), order: make([]int64, 0, capacity)}
}

func (s *idSet) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

func (s *idSet) add(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return
	}
	if len(s.order) < cap(s.order) {
		s.order = append(s.order, id)
	} else {
		delete(s.ids, s.order[s.next])
		s.order[s.next] = id
		s.next = (s.next + 1) % len(s.order)
	}
	s.ids[id] = struct{}{}
}

// parseSeconds reads /set's argument: one whole number of seconds (the bounds are the command's to
// check). A duration such as 15m is refused with an *intervalHint saying how many seconds it is.
func parseSeconds(args []string) (int64, error) {
	if len(args) != 1 {
		return 0, stockalert.Invalid("interval", "give one whole number of seconds")
	}
	arg := args[0]
	n, err := strconv.ParseInt(arg, 10, 64)
	if err == nil {
		return n, nil
	}
	invalid := stockalert.Invalid("interval", "%q is not a whole number of seconds", arg)
	if d, derr := time.ParseDuration(arg); derr == nil && len(arg) <= 16 && d >= 0 && d <= stockalert.MaxNotifyInterval && d%time.Second == 0 {
		return 0, &intervalHint{given: arg, seconds: int64(d / time.Second), err: invalid}
	}
	return 0, invalid
}

// intervalHint is a /set argument that is a duration, with the seconds it stands for. It wraps the
// *stockalert.ValidationError.
type intervalHint struct {
	given   string
	seconds int64
	err     error
}

func (h *intervalHint) Error() string { return h.err.Error() }
func (h *intervalHint) Unwrap() error { return h.err }
