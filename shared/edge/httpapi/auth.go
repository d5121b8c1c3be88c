package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/stockalert/stockalert/shared/query"
)

// edge wraps endpoints: it authenticates the routes that need it and answers every endpoint's error
// through writeError.
type edge struct {
	auth   query.AuthenticateHandler
	logger *slog.Logger
	// limit holds back the public endpoints per client address (nil: no limit).
	limit *ClientLimiter
}

func newEdge(auth query.AuthenticateHandler, logger *slog.Logger) *edge {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &edge{auth: auth, logger: logger}
}

// endpoint serves a request and returns the error to answer with, or nil once it has answered.
type endpoint func(w http.ResponseWriter, r *http.Request) error

// authenticatedEndpoint serves a request of the authenticated user who.
type authenticatedEndpoint func(w http.ResponseWriter, r *http.Request, who query.Principal) error

// public serves an endpoint open to anyone, behind the per-address rate limit (checked before the
// body is read).
func (e *edge) public(h endpoint) http.Handler {
	return e.limit.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e.writeError(w, r, err)
		}
	}))
}

// authenticated serves an endpoint under /users/{email} for the holder of that user's token only. The
// token is checked before anything else about the request (body, parameters, even the e-mail's
// syntax), and every refusal is the same 401, so a caller without the token learns nothing.
func (e *edge) authenticated(h authenticatedEndpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := e.auth.Handle(r.Context(), query.Authenticate{
			Email: r.PathValue("email"),
			Token: bearerToken(r),
		})
		if err == nil {
			err = h(w, r, who)
		}
		if err != nil {
			e.writeError(w, r, err)
		}
	})
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header, or "" (which
// Authenticate refuses) when there is none, there are several, or the scheme is another.
func bearerToken(r *http.Request) string {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return ""
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	token = strings.TrimSpace(token)
	if len(token) > maxTokenLen {
		return "" // a token is 32 characters; do not hash a megabyte of header
	}
	return token
}

// maxTokenLen bounds the tokens worth checking; stockalert.NewSecret makes 32-character ones.
const maxTokenLen = 256
