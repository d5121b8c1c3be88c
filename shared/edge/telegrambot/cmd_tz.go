package telegrambot

import (
	"context"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdTimeZone serves /tz <IANA zone>: the zone every time shown to the user is written in (and their
// quiet hours are read in); /tz alone shows it.
func (h *Webhook) cmdTimeZone(ctx context.Context, req request) (answer, error) {
	if len(req.args) == 0 {
		st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
		if err != nil {
			return answer{}, err
		}
		return reply(timeZoneText(st.Profile.TimeZone)), nil
	}
	zone := strings.Join(req.args, " ")
	if err := h.setZone.Handle(ctx, command.SetTimeZone{ChatID: req.chatID, Zone: zone}); err != nil {
		return answer{}, err
	}
	name, _ := command.ParseTimeZone(zone) // accepted just now
	return reply(timeZoneSetText(name, h.now())), nil
}

// cmdQuiet serves /quiet <HH:MM>-<HH:MM> and /quiet off: the daily window, in the user's zone, during
// which alerts are held and then summed up in one message; /quiet alone shows it.
func (h *Webhook) cmdQuiet(ctx context.Context, req request) (answer, error) {
	if len(req.args) == 0 {
		st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
		if err != nil {
			return answer{}, err
		}
		return reply(quietText(st.Profile.Quiet, st.Profile.TimeZone)), nil
	}
	var q stockalert.QuietHours
	if len(req.args) != 1 || !strings.EqualFold(req.args[0], "off") {
		var err error
		if q, err = stockalert.ParseQuietHours(strings.Join(req.args, "")); err != nil {
			return answer{}, err
		}
	}
	if err := h.setQuiet.Handle(ctx, command.SetQuietHours{ChatID: req.chatID, Quiet: q}); err != nil {
		return answer{}, err
	}
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: req.chatID})
	if err != nil {
		return answer{}, err
	}
	return reply(quietSetText(q, st.Profile.TimeZone)), nil
}
