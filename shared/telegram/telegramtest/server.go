// Package telegramtest is a fake Telegram Bot API for tests: an httptest server on 127.0.0.1 that
// speaks the real wire format. Requests are POST (or GET) {URL}/bot<token>/<method> with parameters in
// the query, a JSON body, a form or multipart/form-data (what github.com/go-telegram/bot sends);
// answers are {"ok":true,"result":…} or {"ok":false,"error_code":…,"description":…,"parameters":…}.
//
// It implements getMe, sendMessage (recorded; MarkdownV2 text is checked for unescaped reserved
// characters), getUpdates (a queue with offset, limit and long-poll timeout semantics, so bot.Start
// works against it; a second poller terminates the first with 409 like the real API), and
// setWebhook, deleteWebhook and getWebhookInfo (recorded; it never calls the webhook: build a
// delivery with Update and NewWebhookRequest). A wrong token gets 401 Unauthorized, an unknown method
// 404 Not Found. Failures can be injected per method and per chat. It is safe for concurrent use.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
)

// Descriptions the real API gives for chats a bot cannot write to, for RejectChat and FailNext.
const (
	DescBlocked         = "Forbidden: bot was blocked by the user"
	DescUserDeactivated = "Forbidden: user is deactivated"
	DescKicked          = "Forbidden: bot was kicked from the group chat"
	DescChatNotFound    = "Bad Request: chat not found"
)

// BotUsername and BotFirstName describe the fake's bot in getMe and in sent messages.
const (
	BotUsername  = "stockalert_test_bot"
	BotFirstName = "StockAlert Test Bot"
)

// MaxMessageLen is sendMessage's text limit, in UTF-16 code units.
const MaxMessageLen = 4096

// SentMessage is a sendMessage call the fake accepted.
type SentMessage struct {
	MessageID int64
	ChatID    int64
	Text      string
	ParseMode string
	// ReplyMarkup is the raw reply_markup parameter (JSON), empty if none.
	ReplyMarkup string
	Date        time.Time
}

// SentPhoto is a sendPhoto call the fake accepted: a file uploaded as multipart/form-data (Bot API,
// "Sending files": InputFile), with its caption.
type SentPhoto struct {
	MessageID int64
	ChatID    int64
	Caption   string
	// Photo is the uploaded file's bytes.
	Photo []byte
	// ReplyMarkup is the raw reply_markup parameter (JSON), empty if none.
	ReplyMarkup string
}

// MaxCaptionLen is sendPhoto's caption limit, in UTF-16 code units.
const MaxCaptionLen = 1024

// MaxPhotoBytes is the largest photo sendPhoto accepts as an upload (Bot API: 10 MB).
const MaxPhotoBytes = 10 << 20

// uploadPrefix marks an uploaded file's bytes among a request's parameters.
const uploadPrefix = "\x00file:"

// WebhookInfo is what setWebhook recorded.
type WebhookInfo struct {
	URL            string
	SecretToken    string
	MaxConnections int
	AllowedUpdates []string
}

// Server is a running fake. Build it with NewServer.
type Server struct {
	srv     *httptest.Server
	token   string
	botID   int64
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change waiters care about
	messages []SentMessage
	photos   []SentPhoto
	nextMsg  int64
	updates  []json.RawMessage // pending, oldest first, each with its update_id
	ids      []int64           // update_id of each pending update
	nextUpd  int64
	pollGen  int64
	webhook  WebhookInfo
	faults   []fault
	chats    map[int64]apiError
	calls    map[string]int
	floods   map[int64]*flood // by chat id; 0 is the whole bot
	early    int
	refused  int // calls with a wrong token

	// allowed is the last allowed_updates list a setWebhook or getUpdates named: Telegram keeps it
	// for later calls that name none, and drops the updates of other types.
	allowed []string

	answers  []CallbackAnswer
	members  map[[2]int64]string     // (chat, user) → status for getChatMember
	commands map[string][]BotCommand // by scope type ("default" when none)
}

// CallbackAnswer is an answerCallbackQuery call the fake accepted.
type CallbackAnswer struct {
	CallbackQueryID string
	Text            string
	ShowAlert       bool
}

// BotCommand is one entry of a setMyCommands list (Bot API, BotCommand).
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// flood is a flood-control window: sendMessage answers 429 until until.
type flood struct {
	until    time.Time
	answered bool // a 429 of this window was answered: later calls in it are early
}

// fault is an injected failure: an API error, a raw HTTP answer, or no answer at all.
type fault struct {
	method string        // lower case; "" for any
	hold   chan struct{} // answer normally once closed
	stall  bool
	err    *apiError
	status int    // HTTP status of a raw answer, when err is nil and stall is false
	raw    string // raw body
}

type apiError struct {
	code       int
	desc       string
	retryAfter int
	migrateTo  int64
}

// NewServer starts a fake for the bot with token (its numeric prefix is the bot's id) and closes it
// when the test ends.
func NewServer(tb testing.TB, token string) *Server {
	tb.Helper()
	id, _, _ := strings.Cut(token, ":")
	botID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || botID <= 0 {
		botID = 1
	}
	s := &Server{
		token:    token,
		botID:    botID,
		closing:  make(chan struct{}),
		changed:  make(chan struct{}),
		nextMsg:  1,
		nextUpd:  100000001,
		chats:    map[int64]apiError{},
		calls:    map[string]int{},
		floods:   map[int64]*flood{},
		members:  map[[2]int64]string{},
		commands: map[string][]BotCommand{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// URL is the server URL to give the client (bot.WithServerURL).
func (s *Server) URL() string { return s.srv.URL }

// BotID is the bot's user id, from the token.
func (s *Server) BotID() int64 { return s.botID }

// Close answers waiting long polls with no updates, releases stalled requests and stops the server.
// It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Messages returns the messages sent so far, oldest first.
func (s *Server) Messages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Photos returns the photos sent so far, oldest first.
func (s *Server) Photos() []SentPhoto {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.photos)
}

// WaitPhotos waits until at least n photos were sent and returns them all; ctx's error, with the
// photos so far, if ctx ends first.
func (s *Server) WaitPhotos(ctx context.Context, n int) ([]SentPhoto, error) {
	for {
		s.mu.Lock()
		photos, changed := slices.Clone(s.photos), s.changed
		s.mu.Unlock()
		if len(photos) >= n {
			return photos, nil
		}
		select {
		case <-ctx.Done():
			return photos, fmt.Errorf("waiting for %d photos, have %d: %w", n, len(photos), ctx.Err())
		case <-changed:
		}
	}
}

// WaitMessages waits until at least n messages were sent and returns them all. It returns ctx's
// error, with the messages so far, if ctx ends first.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		msgs, changed := slices.Clone(s.messages), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return msgs, fmt.Errorf("waiting for %d messages, have %d: %w", n, len(msgs), ctx.Err())
		case <-changed:
		}
	}
}

// Calls returns how many requests named method (case-insensitively; "" for all) with the right token.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[strings.ToLower(method)]
}

// FailNext makes the next call of method ("" for any) fail with the API error code and description,
// plus parameters.retry_after when retryAfter > 0. For 429 an empty description becomes the real
// "Too Many Requests: retry after N". Injected failures are used in the order they were added.
func (s *Server) FailNext(method string, code int, description string, retryAfter int) {
	if code == http.StatusTooManyRequests && description == "" {
		description = fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	}
	s.addFault(fault{method: strings.ToLower(method), err: &apiError{code: code, desc: description, retryAfter: retryAfter}})
}

// FailNextHTTP makes the next call of method ("" for any) answer status with body as text/html, like a
// proxy in front of the API (a 502 page, say).
func (s *Server) FailNextHTTP(method string, status int, body string) {
	s.addFault(fault{method: strings.ToLower(method), status: status, raw: body})
}

// StallNext makes the next call of method ("" for any) get no answer until the client gives up or the
// server closes.
func (s *Server) StallNext(method string) {
	s.addFault(fault{method: strings.ToLower(method), stall: true})
}

// HoldNext makes the next call of method ("" for any) wait until release is called (or the client
// gives up, or the server closes), then be answered as usual: a slow Telegram, for tests of what happens
// meanwhile. Calls counts the call when it arrives. release may be called more than once.
func (s *Server) HoldNext(method string) (release func()) {
	hold := make(chan struct{})
	var once sync.Once
	s.addFault(fault{method: strings.ToLower(method), hold: hold})
	return func() { once.Do(func() { close(hold) }) }
}

func (s *Server) addFault(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// RejectChat makes every sendMessage to chatID fail with the API error code and description, for
// example 403 DescBlocked or 400 DescChatNotFound. A code of 0 accepts the chat again.
func (s *Server) RejectChat(chatID int64, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.chats, chatID)
		return
	}
	s.chats[chatID] = apiError{code: code, desc: description}
}

// MigrateChat makes every sendMessage to the group chatID fail as Telegram does once the group became
// a supergroup: 400 "Bad Request: group chat was upgraded to a supergroup chat" with
// parameters.migrate_to_chat_id set to toChatID.
func (s *Server) MigrateChat(chatID, toChatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[chatID] = apiError{code: http.StatusBadRequest, desc: DescGroupMigrated, migrateTo: toChatID}
}

// Refused returns how many calls came with a wrong token (answered 401 Unauthorized).
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Flood opens a flood-control window of d for chatID (0: for the whole bot), as Telegram does when a
// bot sends too fast: until it ends, every sendMessage to that chat (to any chat for 0) is answered 429
// "Too Many Requests: retry after N" with parameters.retry_after N, the whole seconds left (at least 1).
// A call that arrives after such a 429 was answered, before the window ends, is counted by EarlyCalls.
func (s *Server) Flood(chatID int64, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.floods[chatID] = &flood{until: time.Now().Add(d)}
}

// EarlyCalls returns how many sendMessage calls came inside a flood window after Telegram had already
// answered 429 in it: calls a client honouring retry_after never makes.
func (s *Server) EarlyCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.early
}

// flooded answers a 429 if chatID is inside a flood window; s.mu must be held.
func (s *Server) flooded(chatID int64) (apiError, bool) {
	now := time.Now()
	for _, id := range []int64{chatID, 0} {
		f, ok := s.floods[id]
		if !ok || !now.Before(f.until) {
			continue
		}
		if f.answered {
			s.early++
		}
		f.answered = true
		secs := max(1, int((f.until.Sub(now)+time.Second-1)/time.Second))
		return apiError{code: http.StatusTooManyRequests, desc: fmt.Sprintf("Too Many Requests: retry after %d", secs), retryAfter: secs}, true
	}
	return apiError{}, false
}

// DescGroupMigrated is sendMessage's description for a group upgraded to a supergroup.
const DescGroupMigrated = "Bad Request: group chat was upgraded to a supergroup chat"

// PushMigration does what Telegram does when the group oldID is upgraded to the supergroup newID:
// sendMessage to oldID fails from now on (see MigrateChat), and two service messages are queued for
// getUpdates, MigrateToUpdate in the old group and MigrateFromUpdate in the new supergroup. It returns
// their update_ids.
func (s *Server) PushMigration(oldID, newID int64) (toID, fromID int64) {
	s.MigrateChat(oldID, newID)
	return s.PushUpdate(MigrateToUpdate(oldID, newID)), s.PushUpdate(MigrateFromUpdate(newID, oldID))
}

// PushUpdate queues an update (a JSON object such as Update returns) for getUpdates. The fake assigns
// its update_id, increasing, and returns it.
func (s *Server) PushUpdate(update []byte) int64 {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(update, &obj); err != nil || obj == nil {
		panic(fmt.Sprintf("telegramtest: PushUpdate needs a JSON object: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpd
	s.nextUpd++
	obj["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
	raw, _ := json.Marshal(obj)
	s.updates = append(s.updates, raw)
	s.ids = append(s.ids, id)
	s.notify()
	return id
}

// PushText queues a text message from chatID (a private chat with a user of the same id when positive,
// a group otherwise) and returns its update_id.
func (s *Server) PushText(chatID int64, text string) int64 {
	return s.PushUpdate(Update(chatID, text))
}

// Pending returns how many queued updates no getUpdates call has confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Webhook returns what the last setWebhook recorded; a zero URL means no webhook.
func (s *Server) Webhook() WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	w.AllowedUpdates = slices.Clone(w.AllowedUpdates)
	return w
}

// notify wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

var updateSeq atomic.Int64

func init() { updateSeq.Store(500000000) }

// GroupUpdate returns the JSON of an update carrying a text message sent by user fromID in group
// chatID (negative), as Update does for groups but naming the sender.
func GroupUpdate(chatID, fromID int64, text string) []byte {
	var upd map[string]any
	_ = json.Unmarshal(Update(chatID, text), &upd)
	msg, _ := upd["message"].(map[string]any)
	msg["from"] = map[string]any{"id": fromID, "is_bot": false, "first_name": "Test", "username": fmt.Sprintf("user%d", fromID), "language_code": "en"}
	b, _ := json.Marshal(upd)
	return b
}

// CallbackUpdate returns the JSON of an update carrying a callback_query: user fromID pressed a
// button with data on message messageID of chat chatID (Bot API, CallbackQuery: id, from, message,
// chat_instance, data).
func CallbackUpdate(chatID, fromID, messageID int64, data string) []byte {
	id := updateSeq.Add(1)
	chat := map[string]any{"id": chatID, "first_name": "Test", "username": fmt.Sprintf("user%d", chatID), "type": "private"}
	if chatID < 0 {
		chat = map[string]any{"id": chatID, "title": "Test group", "type": "group"}
	}
	from := map[string]any{"id": fromID, "is_bot": false, "first_name": "Test", "username": fmt.Sprintf("user%d", fromID), "language_code": "en"}
	b, _ := json.Marshal(map[string]any{"update_id": id, "callback_query": map[string]any{
		"id":            strconv.FormatInt(id*7, 10),
		"from":          from,
		"message":       map[string]any{"message_id": messageID, "chat": chat, "date": time.Now().Unix(), "text": "…"},
		"chat_instance": strconv.FormatInt(chatID*3, 10),
		"data":          data,
	}})
	return b
}

// Update returns the JSON of an update carrying a text message from chatID, as Telegram delivers it to
// a webhook or in getUpdates: update_id, message_id, from, chat, date, text, and bot_command entities
// for words starting with "/". Positive ids are private chats with the user of that id; negative ids
// are groups ("supergroup" from -1000000000000).
func Update(chatID int64, text string) []byte {
	id := updateSeq.Add(1)
	user := map[string]any{"id": chatID, "is_bot": false, "first_name": "Test", "username": fmt.Sprintf("user%d", chatID), "language_code": "en"}
	chat := map[string]any{"id": chatID, "first_name": "Test", "username": fmt.Sprintf("user%d", chatID), "type": "private"}
	if chatID < 0 {
		user = map[string]any{"id": 7000001, "is_bot": false, "first_name": "Test", "username": "user7000001", "language_code": "en"}
		chat = map[string]any{"id": chatID, "title": "Test group", "type": "group"}
		if chatID <= -1000000000000 {
			chat["type"] = "supergroup"
		}
	}
	msg := map[string]any{
		"message_id": id % 1000000,
		"from":       user,
		"chat":       chat,
		"date":       time.Now().Unix(),
		"text":       text,
	}
	if ents := commandEntities(text); len(ents) > 0 {
		msg["entities"] = ents
	}
	b, _ := json.Marshal(map[string]any{"update_id": id, "message": msg})
	return b
}

// MigrateToUpdate returns the update Telegram sends in the old group oldID when it becomes the
// supergroup newID: a service message (no text) with migrate_to_chat_id (Bot API, Message).
func MigrateToUpdate(oldID, newID int64) []byte {
	return serviceUpdate(map[string]any{"id": oldID, "title": "Test group", "type": "group"}, "migrate_to_chat_id", newID)
}

// MigrateFromUpdate returns the update Telegram sends in the new supergroup newID that was the group
// oldID: a service message (no text) with migrate_from_chat_id (Bot API, Message).
func MigrateFromUpdate(newID, oldID int64) []byte {
	return serviceUpdate(map[string]any{"id": newID, "title": "Test group", "type": "supergroup"}, "migrate_from_chat_id", oldID)
}

func serviceUpdate(chat map[string]any, field string, value int64) []byte {
	id := updateSeq.Add(1)
	msg := map[string]any{
		"message_id": id % 1000000,
		"from":       map[string]any{"id": 7000001, "is_bot": false, "first_name": "Test", "username": "user7000001", "language_code": "en"},
		"chat":       chat,
		"date":       time.Now().Unix(),
		field:        value,
	}
	b, _ := json.Marshal(map[string]any{"update_id": id, "message": msg})
	return b
}

var commandPattern = regexp.MustCompile(`(^|\s)(/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?)`)

// commandEntities finds bot commands, with offsets and lengths in UTF-16 code units like Telegram's.
func commandEntities(text string) []map[string]any {
	var out []map[string]any
	for _, m := range commandPattern.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[4], m[5]
		out = append(out, map[string]any{
			"offset": utf16Len(text[:start]),
			"length": utf16Len(text[start:end]),
			"type":   "bot_command",
		})
	}
	return out
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// NewWebhookRequest builds the request Telegram sends to a webhook, for calling a handler's ServeHTTP
// directly: POST target with the update as JSON and, when secretToken is not empty, the
// X-Telegram-Bot-Api-Secret-Token header.
func NewWebhookRequest(target string, update []byte, secretToken string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, target, bytes.NewReader(update))
	r.Header.Set("Content-Type", "application/json")
	if secretToken != "" {
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretToken)
	}
	return r
}

// serving

type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, result any, description string) {
	raw, err := json.Marshal(result)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal result: %v", err))
	}
	writeJSON(w, http.StatusOK, response{OK: true, Result: raw, Description: description})
}

func writeErr(w http.ResponseWriter, e apiError) {
	r := response{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 || e.migrateTo != 0 {
		r.Parameters = &responseParams{RetryAfter: e.retryAfter, MigrateToChatID: e.migrateTo}
	}
	status := e.code
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, r)
}

func badRequest(desc string) apiError {
	return apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || method == "" || strings.Contains(method, "/") {
		writeErr(w, apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	if token != s.token {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		writeErr(w, apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	method = strings.ToLower(method)

	s.mu.Lock()
	s.calls[method]++
	var f *fault
	for i := range s.faults {
		if s.faults[i].method == "" || s.faults[i].method == method {
			taken := s.faults[i]
			f = &taken
			s.faults = slices.Delete(s.faults, i, i+1)
			break
		}
	}
	s.mu.Unlock()

	if f != nil && f.hold != nil {
		select {
		case <-f.hold:
			f = nil // then answer as usual
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	if f != nil {
		switch {
		case f.stall:
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
		case f.err != nil:
			writeErr(w, *f.err)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.raw)
		}
		return
	}

	p, err := readParams(r)
	if err != nil {
		writeErr(w, badRequest(err.Error()))
		return
	}
	switch method {
	case "getme":
		writeOK(w, s.me(), "")
	case "sendmessage":
		s.sendMessage(w, p)
	case "sendphoto":
		s.sendPhoto(w, p)
	case "getupdates":
		s.getUpdates(w, r, p)
	case "setwebhook":
		s.setWebhook(w, p)
	case "deletewebhook":
		s.deleteWebhook(w, p)
	case "getwebhookinfo":
		s.getWebhookInfo(w)
	case "answercallbackquery":
		s.answerCallbackQuery(w, p)
	case "getchatmember":
		s.getChatMember(w, p)
	case "setmycommands":
		s.setMyCommands(w, p)
	default:
		writeErr(w, apiError{code: http.StatusNotFound, desc: "Not Found"})
	}
}

func (s *Server) me() map[string]any {
	return map[string]any{
		"id": s.botID, "is_bot": true, "first_name": BotFirstName, "username": BotUsername,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
		"can_connect_to_business": false, "has_main_web_app": false,
	}
}

type params map[string]string

// readParams merges query parameters with the body's, whichever encoding the client chose. JSON
// strings are unquoted; other JSON values keep their text, as in a form.
func readParams(r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		return nil, fmt.Errorf("can't read request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil // go-telegram/bot sends a multipart content type with an empty body when there are no parameters
	}
	mediaType, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("can't parse JSON object: %w", err)
		}
		for k, v := range obj {
			var str string
			if json.Unmarshal(v, &str) == nil {
				p[k] = str
			} else {
				p[k] = string(v)
			}
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("can't parse form: %w", err)
		}
		for k, v := range vals {
			p[k] = v[0]
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		form, err := mr.ReadForm(50 << 20)
		if err != nil {
			return nil, fmt.Errorf("can't parse multipart form: %w", err)
		}
		defer func() { _ = form.RemoveAll() }()
		for k, v := range form.Value {
			p[k] = v[0]
		}
		for k, fhs := range form.File {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, fmt.Errorf("can't open uploaded file %q: %w", k, err)
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return nil, fmt.Errorf("can't read uploaded file %q: %w", k, err)
			}
			p[uploadPrefix+k] = string(data)
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", mediaType)
	}
	return p, nil
}

func (p params) int(name string, def int64) (int64, error) {
	v, ok := p[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q must be an integer", name)
	}
	return n, nil
}

func (s *Server) sendMessage(w http.ResponseWriter, p params) {
	raw, ok := p["chat_id"]
	if !ok || raw == "" {
		writeErr(w, badRequest("chat_id is empty"))
		return
	}
	chatID, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || chatID == 0 {
		writeErr(w, badRequest("chat not found")) // an unknown @username, as far as the fake knows
		return
	}
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		writeErr(w, badRequest("message text is empty"))
		return
	}
	if utf16Len(text) > MaxMessageLen {
		writeErr(w, badRequest("message is too long"))
		return
	}
	mode := p["parse_mode"]
	switch mode {
	case "", "HTML", "Markdown":
	case "MarkdownV2":
		if err := checkMarkdownV2(text); err != nil {
			writeErr(w, badRequest("can't parse entities: "+err.Error()))
			return
		}
	default:
		writeErr(w, badRequest("unsupported parse_mode"))
		return
	}

	s.mu.Lock()
	if e, flooded := s.flooded(chatID); flooded {
		s.mu.Unlock()
		writeErr(w, e)
		return
	}
	if e, rejected := s.chats[chatID]; rejected {
		s.mu.Unlock()
		writeErr(w, e)
		return
	}
	m := SentMessage{MessageID: s.nextMsg, ChatID: chatID, Text: text, ParseMode: mode, ReplyMarkup: p["reply_markup"], Date: time.Now().Truncate(time.Second)}
	s.nextMsg++
	s.messages = append(s.messages, m)
	s.notify()
	s.mu.Unlock()

	chat := map[string]any{"id": chatID, "first_name": "Test", "username": fmt.Sprintf("user%d", chatID), "type": "private"}
	if chatID < 0 {
		chat = map[string]any{"id": chatID, "title": "Test group", "type": "group"}
	}
	writeOK(w, map[string]any{
		"message_id": m.MessageID,
		"from":       map[string]any{"id": s.botID, "is_bot": true, "first_name": BotFirstName, "username": BotUsername},
		"chat":       chat,
		"date":       m.Date.Unix(),
		"text":       text,
	}, "")
}

// sendPhoto accepts an uploaded photo only (a file_id or URL is refused: the fake has no files).
func (s *Server) sendPhoto(w http.ResponseWriter, p params) {
	chatID, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || chatID == 0 {
		writeErr(w, badRequest("chat not found"))
		return
	}
	photo, uploaded := p[uploadPrefix+"photo"]
	switch {
	case !uploaded || len(photo) == 0:
		writeErr(w, badRequest("there is no photo in the request"))
		return
	case len(photo) > MaxPhotoBytes:
		writeErr(w, apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"})
		return
	case utf16Len(p["caption"]) > MaxCaptionLen:
		writeErr(w, badRequest("message caption is too long"))
		return
	}
	s.mu.Lock()
	if e, flooded := s.flooded(chatID); flooded {
		s.mu.Unlock()
		writeErr(w, e)
		return
	}
	if e, rejected := s.chats[chatID]; rejected {
		s.mu.Unlock()
		writeErr(w, e)
		return
	}
	m := SentPhoto{MessageID: s.nextMsg, ChatID: chatID, Caption: p["caption"], Photo: []byte(photo), ReplyMarkup: p["reply_markup"]}
	s.nextMsg++
	s.photos = append(s.photos, m)
	s.notify()
	s.mu.Unlock()
	writeOK(w, map[string]any{
		"message_id": m.MessageID,
		"from":       map[string]any{"id": s.botID, "is_bot": true, "first_name": BotFirstName, "username": BotUsername},
		"chat":       map[string]any{"id": chatID, "type": "private"},
		"date":       time.Now().Unix(),
		"caption":    m.Caption,
		"photo":      []map[string]any{{"file_id": fmt.Sprintf("photo%d", m.MessageID), "file_unique_id": fmt.Sprintf("u%d", m.MessageID), "width": 1000, "height": 560}},
	}, "")
}

// checkMarkdownV2 reports the first reserved character left unescaped outside code and link targets.
// It does not check that entities are balanced.
func checkMarkdownV2(text string) error {
	const never = "#+-={}.!" // characters that are never markup outside code and link targets
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\':
			i++ // escapes the next character
		case c == '`':
			// code or pre: skip to the closing backtick(s); inside, only ` and \ are escaped.
			fence := 1
			if i+2 < len(rs) && rs[i+1] == '`' && rs[i+2] == '`' {
				fence = 3
			}
			j := i + fence
			for ; j < len(rs); j++ {
				if rs[j] == '\\' {
					j++
					continue
				}
				if rs[j] == '`' {
					break
				}
			}
			if j >= len(rs) {
				return fmt.Errorf("can't find end of %s entity", map[int]string{1: "Code", 3: "Pre"}[fence])
			}
			i = j + fence - 1
		case c == ']' && i+1 < len(rs) && rs[i+1] == '(':
			// link target: skip to the unescaped ')'.
			j := i + 2
			for ; j < len(rs) && rs[j] != ')'; j++ {
				if rs[j] == '\\' {
					j++
				}
			}
			if j >= len(rs) {
				return fmt.Errorf("can't find end of URL")
			}
			i = j
		case c == '!' && i+1 < len(rs) && rs[i+1] == '[':
			// custom emoji ![…](tg://emoji?id=…)
		case c == '(' || c == ')' || strings.ContainsRune(never, c):
			return fmt.Errorf("Character '%c' is reserved and must be escaped with the preceding '\\'", c) //nolint:staticcheck // ST1005: Telegram's own wording, which clients match on
		}
	}
	return nil
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p params) {
	offset, err := p.int("offset", 0)
	if err == nil {
		var limit, timeout int64
		if limit, err = p.int("limit", 100); err == nil {
			if timeout, err = p.int("timeout", 0); err == nil {
				if a := p["allowed_updates"]; a != "" {
					var allowed []string
					if err := json.Unmarshal([]byte(a), &allowed); err != nil {
						writeErr(w, badRequest("can't parse allowed updates"))
						return
					}
					s.mu.Lock()
					s.allowed = allowed
					s.mu.Unlock()
				}
				s.poll(w, r, offset, min(max(limit, 1), 100), time.Duration(min(max(timeout, 0), 60))*time.Second)
				return
			}
		}
	}
	writeErr(w, badRequest(err.Error()))
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request, offset, limit int64, timeout time.Duration) {
	s.mu.Lock()
	if s.webhook.URL != "" {
		s.mu.Unlock()
		writeErr(w, apiError{code: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
		return
	}
	s.pollGen++
	gen := s.pollGen
	s.notify() // a poll already waiting is terminated
	s.confirm(offset)
	s.mu.Unlock()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			writeErr(w, apiError{code: http.StatusConflict, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})
			return
		}
		if s.webhook.URL != "" {
			s.mu.Unlock()
			writeErr(w, apiError{code: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		s.dropDisallowed()
		n := min(int64(len(s.updates)), limit)
		batch := append([]json.RawMessage{}, s.updates[:n]...) // [] rather than null when empty
		changed := s.changed
		s.mu.Unlock()

		if n > 0 || timeout == 0 {
			writeOK(w, batch, "")
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			timeout = 0
		case <-s.closing:
			timeout = 0
		case <-r.Context().Done():
			return
		}
	}
}

// dropDisallowed forgets the pending updates whose type the allowed list leaves out. s.mu held.
func (s *Server) dropDisallowed() {
	if len(s.allowed) == 0 {
		return
	}
	keepU, keepI := s.updates[:0], s.ids[:0]
	for i, raw := range s.updates {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(raw, &fields)
		for _, t := range s.allowed {
			if _, ok := fields[t]; ok {
				keepU, keepI = append(keepU, raw), append(keepI, s.ids[i])
				break
			}
		}
	}
	s.updates, s.ids = keepU, keepI
}

// confirm forgets updates before offset; a negative offset keeps only the last -offset. s.mu held.
func (s *Server) confirm(offset int64) {
	drop := 0
	switch {
	case offset > 0:
		for drop < len(s.ids) && s.ids[drop] < offset {
			drop++
		}
	case offset < 0:
		drop = max(len(s.ids)+int(offset), 0)
	}
	s.updates = s.updates[drop:]
	s.ids = s.ids[drop:]
}

var secretTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(w http.ResponseWriter, p params) {
	u := p["url"]
	if u == "" {
		s.deleteWebhook(w, p)
		return
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme != "https" || parsed.Host == "" {
		writeErr(w, badRequest("bad webhook: An HTTPS URL must be provided for webhook"))
		return
	}
	secret := p["secret_token"]
	if secret != "" && !secretTokenPattern.MatchString(secret) {
		writeErr(w, badRequest("secret token contains unallowed characters"))
		return
	}
	maxConn, err := p.int("max_connections", 0)
	if err != nil || maxConn < 0 || maxConn > 100 {
		writeErr(w, badRequest("bad webhook: max_connections must be between 1 and 100"))
		return
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			writeErr(w, badRequest("can't parse allowed updates"))
			return
		}
	}
	s.mu.Lock()
	s.webhook = WebhookInfo{URL: u, SecretToken: secret, MaxConnections: int(maxConn), AllowedUpdates: allowed}
	if allowed != nil {
		s.allowed = allowed
	}
	if p["drop_pending_updates"] == "true" {
		s.updates, s.ids = nil, nil
	}
	s.notify()
	s.mu.Unlock()
	writeOK(w, true, "Webhook was set")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, p params) {
	s.mu.Lock()
	had := s.webhook.URL != ""
	s.webhook = WebhookInfo{}
	if p["drop_pending_updates"] == "true" {
		s.updates, s.ids = nil, nil
	}
	s.notify()
	s.mu.Unlock()
	if had {
		writeOK(w, true, "Webhook was deleted")
	} else {
		writeOK(w, true, "Webhook is already deleted")
	}
}

func (s *Server) getWebhookInfo(w http.ResponseWriter) {
	s.mu.Lock()
	info := map[string]any{
		"url":                    s.webhook.URL,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates),
	}
	if s.webhook.URL != "" {
		info["max_connections"] = 40
		if s.webhook.MaxConnections > 0 {
			info["max_connections"] = s.webhook.MaxConnections
		}
		if len(s.webhook.AllowedUpdates) > 0 {
			info["allowed_updates"] = s.webhook.AllowedUpdates
		}
	}
	s.mu.Unlock()
	writeOK(w, info, "")
}

// answerCallbackQuery records the answer (Bot API: callback_query_id required, text 0-200 characters).
func (s *Server) answerCallbackQuery(w http.ResponseWriter, p params) {
	id := p["callback_query_id"]
	if id == "" {
		writeErr(w, badRequest("query is too old and response timeout expired or query ID is invalid"))
		return
	}
	if utf16Len(p["text"]) > 200 {
		writeErr(w, badRequest("MESSAGE_TOO_LONG"))
		return
	}
	s.mu.Lock()
	s.answers = append(s.answers, CallbackAnswer{CallbackQueryID: id, Text: p["text"], ShowAlert: p["show_alert"] == "true"})
	s.notify()
	s.mu.Unlock()
	writeOK(w, true, "")
}

// CallbackAnswers returns the answerCallbackQuery calls so far, oldest first.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// SetChatMember makes getChatMember answer status ("creator", "administrator", "member", "left",
// "kicked", "restricted") for user in chat. Unset pairs answer "member".
func (s *Server) SetChatMember(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[[2]int64{chatID, userID}] = status
}

// getChatMember answers a ChatMember of the status set with SetChatMember ("member" by default).
func (s *Server) getChatMember(w http.ResponseWriter, p params) {
	chatID, err1 := strconv.ParseInt(p["chat_id"], 10, 64)
	userID, err2 := strconv.ParseInt(p["user_id"], 10, 64)
	if err1 != nil || err2 != nil || chatID == 0 || userID <= 0 {
		writeErr(w, badRequest("chat not found"))
		return
	}
	s.mu.Lock()
	status, ok := s.members[[2]int64{chatID, userID}]
	s.mu.Unlock()
	if !ok {
		status = "member"
	}
	writeOK(w, map[string]any{"status": status, "user": map[string]any{"id": userID, "is_bot": false, "first_name": "Test"}}, "")
}

// setMyCommands records the command list of the scope (Bot API: commands, an array of BotCommand of
// at most 100, each command 1-32 characters a-z 0-9 _, description 1-256 characters).
func (s *Server) setMyCommands(w http.ResponseWriter, p params) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil || len(cmds) > 100 {
		writeErr(w, badRequest("can't parse commands JSON object"))
		return
	}
	for _, c := range cmds {
		if !botCommandPattern.MatchString(c.Command) || c.Description == "" || utf16Len(c.Description) > 256 {
			writeErr(w, badRequest("BOT_COMMAND_INVALID"))
			return
		}
	}
	scope := "default"
	if raw := p["scope"]; raw != "" {
		var sc struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(raw), &sc); err != nil || sc.Type == "" {
			writeErr(w, badRequest("can't parse BotCommandScope JSON object"))
			return
		}
		scope = sc.Type
	}
	s.mu.Lock()
	s.commands[scope] = cmds
	s.notify()
	s.mu.Unlock()
	writeOK(w, true, "")
}

var botCommandPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// Commands returns the command list last set for scope type ("default", "all_private_chats",
// "all_group_chats", …); nil when none was.
func (s *Server) Commands(scope string) []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands[scope]...)
}
