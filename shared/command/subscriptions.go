package command

import (
	"context"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// MaxSubscriptionsPerUser bounds how many tickers one user may watch.
const MaxSubscriptionsPerUser = 50

// subscriptionWriter is what the user-facing commands need to change a user's subscriptions. It is
// embedded in each handler's store interface.
type subscriptionWriter interface {
	// PutSubscription creates or replaces the user's subscription to ticker. Changing the thresholds
	// re-arms the subscription.
	PutSubscription(ctx context.Context, userID int64, ticker stockalert.Ticker, th stockalert.Thresholds) error
}

// userLocker finds a user and locks the row for the rest of the transaction.
type userLocker interface {
	// LockUser returns the user with that e-mail, locked until the transaction ends, or
	// stockalert.ErrNotFound.
	LockUser(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// Subscriptions returns the user's subscriptions ordered by ticker.
	Subscriptions(ctx context.Context, userID int64) ([]stockalert.Subscription, error)
}
