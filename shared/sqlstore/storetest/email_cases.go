package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/email/emailtest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// emailCases: e-mail verification codes (hashed, expiring, single use, rate-limited per address) and
// the unsubscribe secret, through the commands with a real SMTP sender and server.
var emailCases = []contractCase{
	{"EmailVerification/the mailed code confirms once, expires, and the address's hourly limit holds", func(t *testing.T, f *fixture) {
		r := f.registerUser("vera@example.com", "AAPL", th(nil, nil))
		other := f.registerUser("otto@example.com", "AAPL", th(nil, nil))
		srv := emailtest.New(t)
		sender, err := email.Open(email.Config{From: "alerts@example.com", Timeout: 5 * time.Second, PublicBaseURL: "https://a.example"},
			email.Secrets{URL: srv.URL()}, nil, email.WithRootCAs(srv.RootCAs()))
		require.NoError(t, err)
		set := command.EmailVerificationSettings{TTL: time.Hour, PerHour: 3, Now: f.clock.Now}
		send := command.NewSendEmailVerificationHandler(f.store, sender, set, nil, nil)
		verify := command.NewVerifyEmailHandler(f.store, f.store, f.clock.Now, nil, nil)
		u, err := f.store.UserByEmail(f.ctx, stockalert.Email(r.email))
		require.NoError(t, err)

		ch, err := f.store.EmailChannel(f.ctx, u.ID)
		require.NoError(t, err)
		require.False(t, ch.Enabled || ch.Verified, "off and unconfirmed before")

		require.NoError(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(r.email)}))
		mails := srv.WaitMessages(t, 1, 5*time.Second)
		require.Equal(t, []string{r.email}, mails[0].To)
		code := mails[0].VerificationCode(t)
		require.Equal(t, 1, f.count("email_verifications", "code_hash = ?", command.VerificationCodeHash(code)), "stored as its hash")
		require.Zero(t, f.count("email_verifications", "code_hash = ?", code), "never in clear")

		require.NoError(t, verify.Handle(f.ctx, command.VerifyEmail{Code: code}))
		ch, err = f.store.EmailChannel(f.ctx, u.ID)
		require.NoError(t, err)
		require.True(t, ch.Enabled && ch.Verified)
		require.Equal(t, r.email, ch.Target)
		require.NotEmpty(t, ch.Secret, "the unsubscribe secret")
		requireField(t, verify.Handle(f.ctx, command.VerifyEmail{Code: code}), "code")
		requireField(t, verify.Handle(f.ctx, command.VerifyEmail{Code: "not a code"}), "code")
		requireField(t, verify.Handle(f.ctx, command.VerifyEmail{Code: "AAAAAAAAAA"}), "code")

		// A used code no longer counts (only the mailbox's owner can use one): three more fill the hour,
		// the next is refused and sends nothing.
		for range 3 {
			require.NoError(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(r.email)}))
		}
		mails = srv.WaitMessages(t, 4, 5*time.Second)
		expiring := mails[3].VerificationCode(t)
		requireIs(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(r.email)}), stockalert.ErrTooManyVerifications)
		require.NoError(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(other.email)}), "the limit is per address")
		require.Len(t, srv.WaitMessages(t, 5, 5*time.Second), 5)

		f.clock.Advance(time.Hour + time.Minute)
		requireField(t, verify.Handle(f.ctx, command.VerifyEmail{Code: expiring}), "code")
		require.NoError(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(r.email)}), "a new hour")
		fresh := srv.WaitMessages(t, 6, 5*time.Second)[5].VerificationCode(t)
		typed := strings.ToLower(fresh[:5]) + "-" + fresh[5:]
		require.NoError(t, verify.Handle(f.ctx, command.VerifyEmail{Code: typed}), "typed in lower case with a dash")

		// A mail the relay refuses withdraws its code: it does not count against the limit.
		srv.RefuseRecipients(550, "no such mailbox")
		before, err := f.store.CountEmailVerifications(f.ctx, u.ID, u.Email, f.clock.Now().Add(-time.Hour))
		require.NoError(t, err)
		requireIs(t, send.Handle(f.ctx, command.SendEmailVerification{Email: stockalert.Email(r.email)}), stockalert.ErrUndeliverable)
		after, err := f.store.CountEmailVerifications(f.ctx, u.ID, u.Email, f.clock.Now().Add(-time.Hour))
		require.NoError(t, err)
		require.Equal(t, before, after)
		requireIs(t, send.Handle(f.ctx, command.SendEmailVerification{Email: "nobody@example.com"}), stockalert.ErrNotFound)
	}},
	{"UnsubscribeEmail/the token turns the user's e-mail off, and only the user's", func(t *testing.T, f *fixture) {
		r := f.registerUser("una@example.com", "AAPL", th(nil, nil))
		other := f.registerUser("olga@example.com", "AAPL", th(nil, nil))
		u, err := f.store.UserByEmail(f.ctx, stockalert.Email(r.email))
		require.NoError(t, err)
		o, err := f.store.UserByEmail(f.ctx, stockalert.Email(other.email))
		require.NoError(t, err)
		unsub := command.NewUnsubscribeEmailHandler(f.store, f.clock.Now, nil, nil)
		requireField(t, unsub.Handle(f.ctx, command.UnsubscribeEmail{Token: command.EmailUnsubscribeToken(u.ID, "guess")}), "token")

		require.NoError(t, f.store.ConfirmEmail(f.ctx, u.ID, u.Email, "secret-u", f.clock.Now()))
		require.NoError(t, f.store.ConfirmEmail(f.ctx, o.ID, o.Email, "secret-o", f.clock.Now()))
		for _, bad := range []string{"", "x", "12", ".secret-u", command.EmailUnsubscribeToken(u.ID, "secret-o"),
			command.EmailUnsubscribeToken(o.ID, "secret-u"), command.EmailUnsubscribeToken(u.ID, "secret-u2")} {
			requireField(t, unsub.Handle(f.ctx, command.UnsubscribeEmail{Token: bad}), "token")
		}
		ch, err := f.store.EmailChannel(f.ctx, u.ID)
		require.NoError(t, err)
		require.True(t, ch.Enabled, "refused tokens change nothing")

		f.clock.Advance(time.Minute)
		require.NoError(t, unsub.Handle(f.ctx, command.UnsubscribeEmail{Token: command.EmailUnsubscribeToken(u.ID, "secret-u")}))
		ch, err = f.store.EmailChannel(f.ctx, u.ID)
		require.NoError(t, err)
		require.False(t, ch.Enabled)
		require.True(t, ch.Verified, "the address stays confirmed")
		require.Equal(t, f.clock.Now(), ch.UpdatedAt)
		require.NoError(t, unsub.Handle(f.ctx, command.UnsubscribeEmail{Token: command.EmailUnsubscribeToken(u.ID, "secret-u")}), "again: still off")
		oc, err := f.store.EmailChannel(f.ctx, o.ID)
		require.NoError(t, err)
		require.True(t, oc.Enabled, "the other user keeps theirs")
	}},
}
