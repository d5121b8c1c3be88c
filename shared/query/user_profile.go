package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// UserProfile asks for a user's profile by e-mail.
type UserProfile struct {
	Email string
}

// ProfileReader reads profiles.
type ProfileReader interface {
	// UserProfile returns the profile of the user with that e-mail, or stockalert.ErrNotFound.
	UserProfile(ctx context.Context, email stockalert.Email) (Profile, error)
}

// UserProfileHandler answers UserProfile: the profile, a *stockalert.ValidationError for a malformed
// e-mail, or stockalert.ErrNotFound.
type UserProfileHandler decorator.QueryHandler[UserProfile, Profile]

// NewUserProfileHandler builds the handler over r.
func NewUserProfileHandler(r ProfileReader, logger *slog.Logger, m *decorator.Metrics) UserProfileHandler {
	return decorator.ApplyQuery[UserProfile, Profile](userProfileHandler{r}, logger, m)
}

type userProfileHandler struct{ r ProfileReader }

func (h userProfileHandler) Handle(ctx context.Context, q UserProfile) (Profile, error) {
	email, err := stockalert.ParseEmail(q.Email)
	if err != nil {
		return Profile{}, err
	}
	p, err := h.r.UserProfile(ctx, email)
	if err != nil {
		return Profile{}, fmt.Errorf("user profile %s: %w", email, err)
	}
	return p, nil
}
