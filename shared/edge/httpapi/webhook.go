package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// webhookRequest is the body of PUT /users/{email}/webhook.
type webhookRequest struct {
	URL *string `json:"url"`
}

// webhookJSON answers PUT /users/{email}/webhook: the URL as stored and the signing secret, shown once.
type webhookJSON struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// putWebhook serves PUT /users/{email}/webhook {"url":"https://…"}: check the URL (https; http only on a
// loopback host when UserCommands.AllowHTTPLoopbackWebhooks), store it with a new Standard Webhooks
// signing secret, turn the webhook channel on, and answer 200 {"url","secret"}. The secret is shown this
// once; a repeat replaces it. 400 naming "url" for a URL refused.
func (c *commands) putWebhook(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	var req webhookRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	if req.URL == nil {
		return stockalert.Invalid("url", "is required: the https URL alerts are POSTed to")
	}
	target, err := stockalert.ParseWebhookURL("url", *req.URL, c.deps.AllowHTTPLoopbackWebhooks)
	if err != nil {
		return err
	}
	secret := stockalert.NewWebhookSecret()
	if err := c.deps.RegisterWebhook.Handle(r.Context(), command.RegisterWebhook{
		Email: string(who.Email), URL: target, Secret: secret,
	}); err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, webhookJSON{URL: target, Secret: secret})
	return nil
}

// deleteWebhook serves DELETE /users/{email}/webhook: remove the webhook (its URL and secret; the
// channel is turned off), 204, also when there was none.
func (c *commands) deleteWebhook(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	if err := c.deps.DeleteWebhook.Handle(r.Context(), command.DeleteWebhook{Email: string(who.Email)}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
