package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// registerRequest is the body of POST /users.
type registerRequest struct {
	Email          string   `json:"email"`
	Ticker         string   `json:"ticker"`
	HighValue      *float64 `json:"high_value"`
	LowValue       *float64 `json:"low_value"`
	TelegramChatID *int64   `json:"telegram_chat_id"`
}

// minRegisterKeyLen is the shortest Idempotency-Key POST /users accepts. The endpoint is public and a
// replay answers the first response, token included, to whoever repeats the request with the key: the
// key must be a secret too, unguessable (a random UUID is 36 characters).
const minRegisterKeyLen = 20

// register serves POST /users: 201 with the new user's profile, its API token and a Telegram link code
// (shown this once; only their hashes are stored), and a notice when nothing will alert yet (no ticker,
// or no threshold). With an Idempotency-Key, a repeat of the same request
// answers the first response again, token included.
func (c *commands) register(w http.ResponseWriter, r *http.Request) error {
	if key := r.Header.Get(idempotencyHeader); key != "" && len(key) < minRegisterKeyLen {
		return stockalert.Invalid(idempotencyHeader, "must be at least %d random characters on POST /users "+
			"(a retry answers the first response, token included): use a random UUID", minRegisterKeyLen)
	}
	var req registerRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	email, err := stockalert.ParseEmail(req.Email)
	if err != nil {
		return err
	}
	if req.TelegramChatID != nil && c.deps.RefuseChatID {
		return stockalert.Invalid("telegram_chat_id", "is not accepted here: link Telegram by sending "+
			"/start <telegram_link_code> to the bot, or opening telegram_link")
	}
	// The request as decoded, re-encoded: white space, key order and number spelling do not change it.
	canonical, err := marshal(req)
	if err != nil {
		return err
	}
	token, code := stockalert.NewSecret(), stockalert.NewSecret()
	body, replayed, err := runOnce(r.Context(), c.deps.Once, r, "register-user", email, false, stockalert.Fingerprint(canonical),
		func(ctx context.Context) ([]byte, error) {
			err := c.deps.RegisterUser.Handle(ctx, command.RegisterUser{
				Email:          req.Email,
				Ticker:         req.Ticker,
				Thresholds:     stockalert.Thresholds{High: req.HighValue, Low: req.LowValue},
				TelegramChatID: req.TelegramChatID,
				TokenHash:      stockalert.HashSecret(token),
				LinkCodeHash:   stockalert.HashSecret(code),
			})
			if err != nil {
				return nil, err
			}
			// Inside RunOnce ctx carries its transaction: this reads what is about to be committed.
			p, err := c.deps.UserProfile.Handle(ctx, query.UserProfile{Email: string(email)})
			if err != nil {
				return nil, fmt.Errorf("read back registered user: %w", err)
			}
			u := newUserJSON(p)
			return marshal(registrationJSON{
				userJSON:     u,
				Token:        token,
				linkCodeJSON: linkCodeJSON{TelegramLinkCode: code, TelegramLink: deepLink(c.bot, code)},
				Notice:       registrationNotice(u),
			})
		})
	if err != nil {
		return err
	}
	writeResult(w, http.StatusCreated, body, replayed)
	return nil
}
