package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// webSessionCases: the dashboard's one-time sign-in codes (hashed, expiring, single use) and its
// sessions (hashed, expiring, ended on sign-out), through the commands and the query.
var webSessionCases = []contractCase{
	{"WebSession/a code signs in once, expires, and the session ends on sign-out or expiry", func(t *testing.T, f *fixture) {
		r := f.registerUser("wendy@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, 4242)
		issue := command.NewIssueWebLoginHandler(f.store, f.clock.Now, nil, nil)
		start := command.NewStartWebSessionHandler(f.store, f.clock.Now, nil, nil)
		end := command.NewEndWebSessionHandler(f.store, f.clock.Now, nil, nil)
		whose := query.NewWebSessionHandler(f.store, f.clock.Now, nil, nil)
		code, sid := command.WebSecretHash("code-1"), command.WebSecretHash("session-1")

		requireIs(t, issue.Handle(f.ctx, command.IssueWebLogin{ChatID: 999, CodeHash: code}), stockalert.ErrNotFound, "an unlinked chat")
		require.Zero(t, f.count("web_logins", "1 = 1"))
		require.NoError(t, issue.Handle(f.ctx, command.IssueWebLogin{ChatID: 4242, CodeHash: code}))
		require.Equal(t, 1, f.count("web_logins", "code_hash = ?", code), "stored as its hash")
		require.Zero(t, f.count("web_logins", "code_hash = ?", "code-1"), "never in clear")

		_, err := whose.Handle(f.ctx, query.WebSession{SessionHash: sid})
		requireIs(t, err, stockalert.ErrNotFound, "no session before sign-in")
		require.NoError(t, start.Handle(f.ctx, command.StartWebSession{CodeHash: code, SessionHash: sid, TTL: time.Hour}))
		email, err := whose.Handle(f.ctx, query.WebSession{SessionHash: sid})
		require.NoError(t, err)
		require.Equal(t, stockalert.Email(r.email), email)

		other := command.WebSecretHash("session-2")
		requireField(t, start.Handle(f.ctx, command.StartWebSession{CodeHash: code, SessionHash: other}), "code")
		require.Zero(t, f.count("web_sessions", "id_hash = ?", other), "a used code starts no session")
		requireField(t, start.Handle(f.ctx, command.StartWebSession{CodeHash: command.WebSecretHash("nope"), SessionHash: other}), "code")

		// An expired code signs in no one.
		late := command.WebSecretHash("code-2")
		require.NoError(t, issue.Handle(f.ctx, command.IssueWebLogin{ChatID: 4242, CodeHash: late, TTL: time.Minute}))
		f.clock.Advance(time.Minute)
		requireField(t, start.Handle(f.ctx, command.StartWebSession{CodeHash: late, SessionHash: other}), "code")
		require.Zero(t, f.count("web_sessions", "id_hash = ?", other))

		// Sign-out ends the session; a second sign-out is no error.
		require.NoError(t, end.Handle(f.ctx, command.EndWebSession{SessionHash: sid}))
		_, err = whose.Handle(f.ctx, query.WebSession{SessionHash: sid})
		requireIs(t, err, stockalert.ErrNotFound)
		require.NoError(t, end.Handle(f.ctx, command.EndWebSession{SessionHash: sid}))

		// A session expires at its TTL.
		fresh := command.WebSecretHash("code-3")
		require.NoError(t, issue.Handle(f.ctx, command.IssueWebLogin{ChatID: 4242, CodeHash: fresh}))
		require.NoError(t, start.Handle(f.ctx, command.StartWebSession{CodeHash: fresh, SessionHash: other, TTL: time.Hour}))
		f.clock.Advance(time.Hour)
		_, err = whose.Handle(f.ctx, query.WebSession{SessionHash: other})
		requireIs(t, err, stockalert.ErrNotFound, "expired")
	}},
}
