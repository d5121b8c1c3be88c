package telegrambot_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/email/emailtest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

func TestVerifyConfirmsTheMailedAddressOnce(t *testing.T) {
	b := newBot(t)
	b.registerUser("pat@example.com", "", stockalert.Thresholds{})
	srv := emailtest.New(t)
	sender, err := email.Open(email.Config{From: "alerts@example.com", Timeout: 5 * time.Second, PublicBaseURL: "https://a.example"},
		email.Secrets{URL: srv.URL()}, nil, email.WithRootCAs(srv.RootCAs()))
	require.NoError(t, err)
	send := command.NewSendEmailVerificationHandler(b.store, sender,
		command.EmailVerificationSettings{Now: func() time.Time { return now }}, nil, nil)
	require.NoError(t, send.Handle(b.ctx, command.SendEmailVerification{Email: "pat@example.com"}))
	code := srv.WaitMessages(t, 1, 5*time.Second)[0].VerificationCode(t)
	u, err := b.store.UserByEmail(b.ctx, "pat@example.com")
	require.NoError(t, err)

	require.Equal(t, "Send /verify followed by the code of the verification mail, for example /verify ABCDE23456.", b.say(42, "/verify"))

	// In a group the code would be seen by everyone: refused, and the code stays valid.
	status, replies := b.deliverRaw(telegramtest.GroupUpdate(-100, 5, "/verify "+code))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, replies, 1)
	require.Equal(t, "Send that command in a private chat with me: its answer is for your eyes only.", replies[0].Text)
	ch, err := b.store.EmailChannel(b.ctx, u.ID)
	require.NoError(t, err)
	require.False(t, ch.Verified)

	require.Equal(t, "Your e-mail address is confirmed: alerts now also come by e-mail. Every alert mail has a link that turns e-mail alerts off again.",
		b.say(42, "/verify "+code))
	ch, err = b.store.EmailChannel(b.ctx, u.ID)
	require.NoError(t, err)
	require.True(t, ch.Verified && ch.Enabled)
	require.Equal(t, "That code did not work: this code is unknown, already used or expired: ask for a new verification mail. "+
		"Send /verify followed by the code of the verification mail, for example /verify ABCDE23456.", b.say(42, "/verify "+code))
	require.Equal(t, "That code did not work: a verification code is 10 letters and digits, as in the mail. "+
		"Send /verify followed by the code of the verification mail, for example /verify ABCDE23456.", b.say(42, "/verify 123"))
}
