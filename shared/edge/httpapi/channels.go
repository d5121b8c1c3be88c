package httpapi

import (
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// channelJSON is one of the user's channels: channel (telegram, email, webhook), enabled, target (the
// linked chat's id, the account's address, the webhook's URL; absent when none), verified (e-mail: the
// address is confirmed) and disabled_reason (why the system turned it off; absent otherwise). Never
// the webhook's secret.
type channelJSON struct {
	Channel        string `json:"channel"`
	Enabled        bool   `json:"enabled"`
	Target         string `json:"target,omitempty"`
	Verified       bool   `json:"verified"`
	DisabledReason string `json:"disabled_reason,omitempty"`
}

// channels serves GET /users/{email}/channels: 200 with {"channels":[…]}, every channel in the order
// telegram, email, webhook.
func (q *queries) channels(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	states, err := q.deps.ChannelStates.Handle(r.Context(), query.ChannelStates{Email: string(who.Email)})
	if err != nil {
		return err
	}
	out := struct {
		Channels []channelJSON `json:"channels"`
	}{Channels: make([]channelJSON, len(states))}
	for i, s := range states {
		out.Channels[i] = channelJSON{Channel: string(s.Channel), Enabled: s.Enabled, Target: s.Target, Verified: s.Verified,
			DisabledReason: s.DisabledReason}
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
	return nil
}

// channelSwitch is one channel's part of PUT /users/{email}/channels.
type channelSwitch struct {
	Enabled *bool `json:"enabled"`
}

// putChannelsRequest is the body of PUT /users/{email}/channels: the channels to change, each
// {"enabled": true|false}; the others are left as they are.
type putChannelsRequest struct {
	Telegram *channelSwitch `json:"telegram,omitempty"`
	Email    *channelSwitch `json:"email,omitempty"`
	Webhook  *channelSwitch `json:"webhook,omitempty"`
}

// putChannels serves PUT /users/{email}/channels: turn channels on or off, all or none; 200 with
// {"verification_sent": true} when e-mail was turned on for an address not confirmed yet (a
// verification mail went out; no alert goes there until it is confirmed). 400 naming an unknown
// channel or field, or "<channel>.enabled" when missing; 409 naming "webhook" when no webhook URL is
// registered, "email" when e-mail is not configured on this server.
func (c *commands) putChannels(w http.ResponseWriter, r *http.Request, who query.Principal) error {
	var req putChannelsRequest
	if err := decodeBody(r, &req, c.deps.MaxBodyBytes); err != nil {
		return err
	}
	set := map[stockalert.Channel]bool{}
	for _, p := range []struct {
		channel stockalert.Channel
		sw      *channelSwitch
	}{{stockalert.ChannelTelegram, req.Telegram}, {stockalert.ChannelEmail, req.Email}, {stockalert.ChannelWebhook, req.Webhook}} {
		if p.sw == nil {
			continue
		}
		if p.sw.Enabled == nil {
			return stockalert.Invalid(string(p.channel)+".enabled", "is required: true or false")
		}
		set[p.channel] = *p.sw.Enabled
	}
	if len(set) == 0 {
		return stockalert.Invalid("body", "name a channel to change: telegram, email or webhook")
	}
	var sent bool
	if err := c.deps.EnableChannel.Handle(r.Context(), command.EnableChannel{Email: string(who.Email), Set: set, VerificationSent: &sent}); err != nil {
		return err
	}
	httpjson.WriteJSON(w, http.StatusOK, struct {
		VerificationSent bool `json:"verification_sent"`
	}{sent})
	return nil
}
