package telegrambot

import (
	"context"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

const (
	verifyUsage  = "Send /verify followed by the code of the verification mail, for example /verify ABCDE23456."
	verifiedText = "Your e-mail address is confirmed: alerts now also come by e-mail. " +
		"Every alert mail has a link that turns e-mail alerts off again."
	verifyOffText = "E-mail alerts are not set up on this server, so there is nothing to confirm."
)

// cmdVerify serves /verify <code>: confirms the e-mail address the code was mailed to (the same code
// as the mail's link). Private chats only: the code is a secret until used. A refused code is
// answered here, in the words of the refusal, since errorReply's "code" is /start's link code.
func (h *Webhook) cmdVerify(ctx context.Context, req request) (answer, error) {
	if h.verifyEmail == nil {
		return reply(verifyOffText), nil
	}
	if len(req.args) == 0 {
		return reply(verifyUsage), nil
	}
	err := h.verifyEmail.Handle(ctx, command.VerifyEmail{Code: strings.Join(req.args, "")})
	if v, invalid := stockalert.AsValidation(err); invalid {
		return reply("That code did not work: " + v.Reason + ". " + verifyUsage), nil
	}
	if err != nil {
		return answer{}, err
	}
	return reply(verifiedText), nil
}
