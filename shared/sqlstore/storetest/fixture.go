package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Clock is a settable clock for stores under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is one test's store with every use case wired to it, as a function would wire them.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store *sqlstore.Store
	clock *Clock

	register     command.RegisterUserHandler
	update       command.UpdateUserHandler
	subscribe    command.SubscribeHandler
	unsubscribe  command.UnsubscribeHandler
	deleteUser   command.DeleteUserHandler
	recordPrices command.RecordPricesHandler
	evaluate     command.EvaluatePriceHandler
	link         command.LinkTelegramHandler
	moveChat     command.MoveTelegramChatHandler
	issueCode    command.IssueLinkCodeHandler
	rotateToken  command.RotateTokenHandler
	setInterval  command.SetNotifyIntervalHandler
	setPaused    command.SetPausedHandler
	recordNotif  command.RecordNotificationHandler
	purge        command.PurgeIdempotencyKeysHandler

	authenticate query.AuthenticateHandler
	profile      query.UserProfileHandler
	chatProfile  query.ChatProfileHandler
	codeHolder   query.LinkCodeHolderHandler
	latest       query.LatestPriceHandler
	average      query.AveragePriceHandler
	tickers      query.DistinctTickersHandler
}

const idempotencyTTL = time.Hour

func newFixture(t *testing.T, open Opener) *fixture {
	clock := NewClock()
	s := open(t, sqlstore.WithClock(clock.Now), sqlstore.WithIdempotencyTTL(idempotencyTTL))
	f := &fixture{t: t, ctx: context.Background(), store: s, clock: clock}
	f.register = command.NewRegisterUserHandler(s, nil, nil)
	f.update = command.NewUpdateUserHandler(s, nil, nil)
	f.subscribe = command.NewSubscribeHandler(s, nil, nil)
	f.unsubscribe = command.NewUnsubscribeHandler(s, nil, nil)
	f.deleteUser = command.NewDeleteUserHandler(s, nil, nil)
	f.recordPrices = command.NewRecordPricesHandler(s, stockalert.TopicPrices, nil, nil)
	f.evaluate = command.NewEvaluatePriceHandler(s, stockalert.TopicAlerts, nil, nil)
	f.link = command.NewLinkTelegramHandler(s, nil, nil)
	f.moveChat = command.NewMoveTelegramChatHandler(s, nil, nil)
	f.issueCode = command.NewIssueLinkCodeHandler(s, nil, nil)
	f.rotateToken = command.NewRotateTokenHandler(s, nil, nil)
	f.setInterval = command.NewSetNotifyIntervalHandler(s, nil, nil)
	f.setPaused = command.NewSetPausedHandler(s, nil, nil)
	f.recordNotif = command.NewRecordNotificationHandler(s, nil, nil)
	f.purge = command.NewPurgeIdempotencyKeysHandler(s, nil, nil)
	f.authenticate = query.NewAuthenticateHandler(s, nil, nil)
	f.profile = query.NewUserProfileHandler(s, nil, nil)
	f.codeHolder = query.NewLinkCodeHolderHandler(s, nil, nil)
	f.chatProfile = query.NewChatProfileHandler(s, query.Freshness{Now: clock.Now}, nil, nil)
	f.latest = query.NewLatestPriceHandler(s, query.Freshness{Now: clock.Now}, nil, nil)
	f.average = query.NewAveragePriceHandler(s, nil, nil)
	f.tickers = query.NewDistinctTickersHandler(s, nil, nil)
	return f
}

// registered is what a test keeps of a registration: the secrets the caller generated.
type registered struct {
	email    string
	token    string
	linkCode string
}

// registerUser registers email watching ticker within th, failing the test on error.
func (f *fixture) registerUser(email, ticker string, th stockalert.Thresholds) registered {
	f.t.Helper()
	r := registered{email: email, token: stockalert.NewSecret(), linkCode: stockalert.NewSecret()}
	require.NoError(f.t, f.register.Handle(f.ctx, command.RegisterUser{
		Email: email, Ticker: ticker, Thresholds: th,
		TokenHash: stockalert.HashSecret(r.token), LinkCodeHash: stockalert.HashSecret(r.linkCode),
	}))
	return r
}

// linkChat links chat to r's account through the one-time code.
func (f *fixture) linkChat(r registered, chat int64) {
	f.t.Helper()
	require.NoError(f.t, f.link.Handle(f.ctx, command.LinkTelegram{Code: r.linkCode, ChatID: chat}))
}

func (f *fixture) mustProfile(email string) query.Profile {
	f.t.Helper()
	p, err := f.profile.Handle(f.ctx, query.UserProfile{Email: email})
	require.NoError(f.t, err)
	return p
}

func (f *fixture) count(table, where string, args ...any) int {
	f.t.Helper()
	return Count(f.t, f.store.DB(), table, where, args...)
}

// requireField asserts err is a *stockalert.ValidationError naming field.
func requireField(t *testing.T, err error, field string) {
	t.Helper()
	v, ok := stockalert.AsValidation(err)
	require.Truef(t, ok, "want a validation error for %q, got %v", field, err)
	require.Equal(t, field, v.Field, "field named by %v", err)
}

// requireConflict checks err is a *stockalert.ConflictError naming field.
func requireConflict(t *testing.T, err error, field string) {
	t.Helper()
	c, ok := errors.AsType[*stockalert.ConflictError](err)
	require.Truef(t, ok, "want a conflict on %q, got %v", field, err)
	require.Equal(t, field, c.Field, "field named by %v", err)
}

func requireIs(t *testing.T, err, target error, msg ...any) {
	t.Helper()
	require.Truef(t, errors.Is(err, target), "want %v, got %v %v", target, err, msg)
}

func f64(v float64) *float64 { return &v }

func th(high, low *float64) stockalert.Thresholds { return stockalert.Thresholds{High: high, Low: low} }
