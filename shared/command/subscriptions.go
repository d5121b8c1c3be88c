package command

import (
	"context"

	"github.com/stockalert/stockalert/shared/stockalert"
)

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

// ruleCounter counts a user's rules, for the per-user limit (count under LockUser, so that concurrent
// commands of one user cannot both pass it).
type ruleCounter interface {
	// CountRules returns how many rules the user has, of every kind and state.
	CountRules(ctx context.Context, userID int64) (int, error)
}

// errTooManyRules is the *stockalert.ValidationError of a command that would give a user more than max
// rules; field names the input that would add it.
func errTooManyRules(field string, maxRules int) error {
	return stockalert.Invalid(field, "a user can have at most %d alert rules (ranges included): delete one first", maxRules)
}

// subscriptionDeleter removes a user's range on a ticker.
type subscriptionDeleter interface {
	// DeleteSubscription removes the user's range on ticker, or returns stockalert.ErrNotFound.
	DeleteSubscription(ctx context.Context, userID int64, ticker stockalert.Ticker) error
}
