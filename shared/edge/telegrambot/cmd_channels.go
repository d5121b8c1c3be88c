package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// channelHandlers are the use cases of /channels.
type channelHandlers struct {
	states query.ChannelStatesHandler
	enable command.EnableChannelHandler
}

// channelsUsage explains /channels.
const channelsUsage = "Send /channels to see where your alerts go, or /channels email on, /channels webhook off, /channels telegram on."

// cmdChannels serves /channels (the account's channels and their states) and /channels <channel> on|off
// (in a group, for its administrators only):
//
//	Your alerts go to:
//	Telegram: on (this chat)
//	e-mail: on, waiting for you to confirm pat@example.com (see the mail we sent)
//	webhook: off (no URL registered: add one with the HTTP API)
func (h *Webhook) cmdChannels(ctx context.Context, req request) (answer, error) {
	switch len(req.args) {
	case 0:
		return h.showChannels(ctx, req.chatID)
	case 2:
	default:
		return reply(channelsUsage), nil
	}
	channel, err := stockalert.ParseChannel("channels", strings.ToLower(req.args[0]))
	if err != nil {
		return reply(fmt.Sprintf("%s is not a channel. %s", req.args[0], channelsUsage)), nil
	}
	var on bool
	switch strings.ToLower(req.args[1]) {
	case "on":
		on = true
	case "off":
	default:
		return reply(channelsUsage), nil
	}
	if !req.private {
		if err := h.checkAdmin(ctx, req.chatID, req.fromID, req.asChat); err != nil {
			return answer{}, err
		}
	}
	var sent bool
	err = h.channels.enable.Handle(ctx, command.EnableChannel{ChatID: req.chatID, Set: map[stockalert.Channel]bool{channel: on}, VerificationSent: &sent})
	var conflict *stockalert.ConflictError
	switch {
	case errors.As(err, &conflict) && channel == stockalert.ChannelWebhook:
		return reply("Your webhook has no URL yet: register one with the HTTP API first, then send /channels webhook on."), nil
	case errors.As(err, &conflict) && conflict.Reason != "":
		return reply("That did not work: " + conflict.Reason + "."), nil
	case err != nil:
		return answer{}, err
	}
	text := fmt.Sprintf("Alerts %s %s.", map[bool]string{true: "now go to", false: "no longer go to"}[on], channelWords(string(channel)))
	if sent {
		text += " We sent a mail to confirm your address: follow its link. No alert goes there until you do."
	}
	return reply(text), nil
}

// showChannels answers /channels alone.
func (h *Webhook) showChannels(ctx context.Context, chatID int64) (answer, error) {
	states, err := h.channels.states.Handle(ctx, query.ChannelStates{ChatID: chatID})
	if err != nil {
		return answer{}, err
	}
	var b strings.Builder
	b.WriteString("Your alerts go to:")
	for _, s := range states {
		fmt.Fprintf(&b, "\n%s: %s", channelWords(string(s.Channel)), channelState(s, chatID))
	}
	b.WriteString("\n\n" + channelsUsage)
	return reply(b.String()), nil
}

// channelState says how one channel stands, in plain words.
func channelState(s query.ChannelState, chatID int64) string {
	state := "off"
	if s.Enabled {
		state = "on"
	}
	switch {
	case s.DisabledReason != "" && !s.Enabled:
		return "off (" + s.DisabledReason + ")"
	case s.Channel == stockalert.ChannelTelegram && s.Target == fmt.Sprint(chatID):
		return state + " (this chat)"
	case s.Channel == stockalert.ChannelEmail && s.Enabled && !s.Verified:
		return "on, waiting for you to confirm " + s.Target + " (see the mail we sent)"
	case s.Channel == stockalert.ChannelEmail:
		return state + " (" + s.Target + ")"
	case s.Channel == stockalert.ChannelWebhook && s.Target == "":
		return state + " (no URL registered: add one with the HTTP API)"
	case s.Channel == stockalert.ChannelWebhook:
		return state + " (" + s.Target + ")"
	}
	return state
}
