package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// CreateRule adds an alert rule for the user with that e-mail. Rule carries what the user wrote
// (Ticker, Kind and that kind's fields, Repeat, ExpiresAt, Note); ids, state and times are ignored.
// A move_pct rule without a Reference takes the ticker's latest recorded price.
type CreateRule struct {
	Email string
	Rule  stockalert.Rule
	// Created, when not nil, receives the rule as stored: normalized (defaults filled in), with its new
	// ID, its Reference and CreatedAt. The caller answers with it; the command itself returns only an
	// error.
	Created *stockalert.Rule
	// Unverified, when not nil, receives whether the symbol was accepted without the quote source's
	// word (the source could not tell, see CheckSymbols): the collector drops it if it keeps finding
	// it unknown.
	Unverified *bool
}

// ruleWriter stores new rules.
type ruleWriter interface {
	// InsertRule stores r (validated and normalized) for r.UserID and returns its id; a
	// *stockalert.ConflictError when r is a range and the user already has the ticker's range.
	InsertRule(ctx context.Context, r stockalert.Rule) (int64, error)
}

// latestQuoter reads the latest recorded quote of a ticker.
type latestQuoter interface {
	// LatestQuote returns the most recent recorded quote of ticker, or stockalert.ErrNotFound.
	LatestQuote(ctx context.Context, ticker stockalert.Ticker) (stockalert.Quote, error)
}

// RuleCreator stores users' new rules.
type RuleCreator interface {
	Transactor
	userLocker
	ruleCounter
	ruleWriter
	latestQuoter
}

// CreateRuleHandler handles CreateRule: a *stockalert.ValidationError naming the field for bad input,
// a symbol the quote source does not know, a move_pct rule with no reference and no recorded price
// ("reference"), or a user at the rule limit (MaxRulesPerUser); stockalert.ErrNotFound for an
// unknown user; a *stockalert.ConflictError naming "ticker" for a range on a ticker whose range the
// user has (PUT /users/{email}/tickers/{ticker} changes it).
type CreateRuleHandler decorator.CommandHandler[CreateRule]

// NewCreateRuleHandler builds the handler over store, with now as its clock (time.Now when nil);
// CheckSymbols makes it check a new symbol against the quote source first, MaxRulesPerUser sets the
// rule limit.
func NewCreateRuleHandler(store RuleCreator, now func() time.Time, logger *slog.Logger, m *decorator.Metrics, opts ...Option) CreateRuleHandler {
	if now == nil {
		now = time.Now
	}
	o := newOptions(opts)
	return decorator.ApplyCommand[CreateRule](createRuleHandler{store, now, o.check, o.maxRules}, logger, m)
}

type createRuleHandler struct {
	store    RuleCreator
	now      func() time.Time
	check    symbolCheck
	maxRules int
}

func (h createRuleHandler) Handle(ctx context.Context, cmd CreateRule) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	ticker, err := stockalert.ParseTicker(string(cmd.Rule.Ticker))
	if err != nil {
		return err
	}
	r := stockalert.Rule{
		Ticker: ticker, Kind: cmd.Rule.Kind, Thresholds: cmd.Rule.Thresholds, Level: cmd.Rule.Level,
		Percent: cmd.Rule.Percent, Direction: cmd.Rule.Direction, Reference: cmd.Rule.Reference,
		Repeat: cmd.Rule.Repeat, Note: cmd.Rule.Note, Channels: cmd.Rule.Channels,
		// The store keeps times in milliseconds: Created then says what a later read answers.
		ExpiresAt: cmd.Rule.ExpiresAt.Truncate(time.Millisecond),
	}
	now := h.now().Truncate(time.Millisecond)
	needsReference := r.Kind == stockalert.KindMovePct && r.Reference == 0
	if needsReference {
		r.Reference = 1 // validate the other fields first; the latest price replaces it below
	}
	if err := r.Validate(now); err != nil {
		return err
	}
	if r.Kind == stockalert.KindRange && r.Thresholds.High == nil && r.Thresholds.Low == nil {
		return stockalert.Invalid("high_value", "a range needs high_value, low_value or both")
	}
	unverified, err := h.check.verify(ctx, ticker)
	if err != nil {
		return fmt.Errorf("create rule for %s on %s: %w", email, ticker, err)
	}
	r = r.Normalized()
	r.CreatedAt = now
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("create rule for %s: %w", email, err)
		}
		n, err := h.store.CountRules(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("create rule for %s: %w", email, err)
		}
		if n >= h.maxRules {
			return errTooManyRules("kind", h.maxRules)
		}
		if needsReference {
			q, err := h.store.LatestQuote(ctx, ticker)
			if errors.Is(err, stockalert.ErrNotFound) {
				return stockalert.Invalid("reference", "is required: no price of %s is recorded yet", ticker)
			}
			if err != nil {
				return fmt.Errorf("create rule for %s: reference price: %w", email, err)
			}
			r.Reference = q.Price
		}
		r.UserID = u.ID
		if r.ID, err = h.store.InsertRule(ctx, r); err != nil {
			return fmt.Errorf("create rule for %s on %s: %w", email, ticker, err)
		}
		if err := h.check.record(ctx, ticker, unverified); err != nil {
			return fmt.Errorf("create rule for %s: %w", email, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cmd.Created != nil {
		r.State = stockalert.Armed
		*cmd.Created = r
	}
	if cmd.Unverified != nil {
		*cmd.Unverified = unverified
	}
	level := slog.LevelInfo
	if unverified {
		level = slog.LevelWarn // as the symbol check reported it
	}
	decorator.Report(ctx, level, "rule created", slog.String("event", "rule-created"), slog.String("email", string(email)),
		slog.String("rule_id", stockalert.RuleIDString(r.ID)), slog.String("ticker", string(ticker)), slog.String("kind", string(r.Kind)))
	return nil
}
