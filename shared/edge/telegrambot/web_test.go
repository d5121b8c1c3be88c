package telegrambot_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// lateIssuer is the bot's IssueWebLogin handler, built over the bot's store once it exists.
type lateIssuer struct{ h command.IssueWebLoginHandler }

func (l *lateIssuer) Handle(ctx context.Context, cmd command.IssueWebLogin) error {
	return l.h.Handle(ctx, cmd)
}

var webLink = regexp.MustCompile(`https://faas\.example\.com/function/dashboard/login\?code=(\S+)`)

// /web answers a one-time dashboard link in a private chat, a fresh one each time; the code signs in
// once. Groups are refused; without the dashboard set up, /web says so.
func TestWebSendsAOneTimeSignInLink(t *testing.T) {
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.DashboardURL = "https://faas.example.com/function/dashboard/" })
	require.Equal(t, "The web dashboard is not set up here.", b.say(42, "/web"), "no issuer wired")

	issuer := &lateIssuer{}
	b = newBot(t, func(c *telegrambot.WebhookConfig) {
		c.DashboardURL = "https://faas.example.com/function/dashboard/"
		c.WebLogin = issuer
	})
	issuer.h = command.NewIssueWebLoginHandler(b.store, nil, nil, nil)
	require.Equal(t, notLinked, b.say(42, "/web"))
	b.say(42, "/register web@example.com")

	got := b.say(42, "/web")
	m := webLink.FindStringSubmatch(got)
	require.NotNil(t, m, got)
	code, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	other := webLink.FindStringSubmatch(b.say(42, "/web"))
	require.NotNil(t, other)
	require.NotEqual(t, m[1], other[1], "each /web issues a new link")

	start := command.NewStartWebSessionHandler(b.store, nil, nil, nil)
	whose := query.NewWebSessionHandler(b.store, nil, nil, nil)
	sid := command.WebSecretHash("sid")
	require.NoError(t, start.Handle(b.ctx, command.StartWebSession{CodeHash: command.WebSecretHash(code), SessionHash: sid, TTL: time.Hour}))
	email, err := whose.Handle(b.ctx, query.WebSession{SessionHash: sid})
	require.NoError(t, err)
	require.Equal(t, stockalert.Email("web@example.com"), email)
	_, ok := stockalert.AsValidation(start.Handle(b.ctx, command.StartWebSession{CodeHash: command.WebSecretHash(code), SessionHash: command.WebSecretHash("x")}))
	require.True(t, ok, "the code works once")

	const group, admin = int64(-7001), int64(91)
	require.Equal(t, "Send that command in a private chat with me: its answer is for your eyes only.",
		b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/web")))
}
