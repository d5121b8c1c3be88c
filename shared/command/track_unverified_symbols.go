package command

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// TrackUnverifiedSymbols is what one collection learnt about the symbols accepted unverified (see
// CheckSymbols): Priced were quoted (verified now), Unknown were answered "unknown" by the source.
type TrackUnverifiedSymbols struct {
	Priced  []stockalert.Ticker
	Unknown []stockalert.Ticker
}

// UnverifiedSymbolStore keeps the unverified symbols.
type UnverifiedSymbolStore interface {
	Transactor
	// VerifySymbols removes the tickers from the unverified symbols.
	VerifySymbols(ctx context.Context, tickers []stockalert.Ticker) error
	// MissSymbols counts one miss for each unverified ticker among tickers and returns those whose
	// misses reached maxMisses.
	MissSymbols(ctx context.Context, tickers []stockalert.Ticker, maxMisses int) ([]stockalert.Ticker, error)
	// DropSymbol deletes every rule on the ticker, and its unverified row, and returns one entry per
	// user whose rules were deleted, with the user's e-mail and chat.
	DropSymbol(ctx context.Context, ticker stockalert.Ticker) ([]stockalert.OwnedRule, error)
	outboxAppender
}

// outboxAppender queues events in the transaction of the change they announce.
type outboxAppender interface {
	AppendOutbox(ctx context.Context, msgs ...stockalert.OutboxMessage) error
}

// TrackUnverifiedSymbolsHandler handles TrackUnverifiedSymbols; errors are store faults.
type TrackUnverifiedSymbolsHandler decorator.CommandHandler[TrackUnverifiedSymbols]

// DefaultUnverifiedSymbolMaxMisses is the maxMisses of NewTrackUnverifiedSymbolsHandler when 0.
const DefaultUnverifiedSymbolMaxMisses = 3

// NewTrackUnverifiedSymbolsHandler builds the handler over store. An unverified symbol found unknown by
// maxMisses collections (DefaultUnverifiedSymbolMaxMisses when 0) is dropped: its subscriptions are
// deleted and each of their users gets a notice, an AlertEvent with Condition stockalert.SymbolDropped
// queued on topic (stockalert.TopicAlerts) in the same transaction, which alert-notifier delivers like an
// alert. The handler's log line lists the dropped symbols (event unverified-symbols-dropped, WARN).
func NewTrackUnverifiedSymbolsHandler(store UnverifiedSymbolStore, topic string, maxMisses int, now func() time.Time,
	logger *slog.Logger, m *decorator.Metrics) TrackUnverifiedSymbolsHandler {
	if maxMisses <= 0 {
		maxMisses = DefaultUnverifiedSymbolMaxMisses
	}
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[TrackUnverifiedSymbols](trackUnverifiedHandler{store, topic, maxMisses, now}, logger, m)
}

type trackUnverifiedHandler struct {
	store     UnverifiedSymbolStore
	topic     string
	maxMisses int
	now       func() time.Time
}

func (h trackUnverifiedHandler) Handle(ctx context.Context, cmd TrackUnverifiedSymbols) error {
	var dropped []stockalert.Ticker
	notices := 0
	err := h.store.InTx(ctx, func(ctx context.Context) error {
		dropped, notices = nil, 0
		if err := h.store.VerifySymbols(ctx, cmd.Priced); err != nil {
			return err
		}
		gone, err := h.store.MissSymbols(ctx, cmd.Unknown, h.maxMisses)
		if err != nil {
			return err
		}
		at := h.now().UTC()
		for _, t := range gone {
			subs, err := h.store.DropSymbol(ctx, t)
			if err != nil {
				return err
			}
			msgs := make([]stockalert.OutboxMessage, 0, len(subs))
			for _, s := range subs {
				body, err := json.Marshal(stockalert.AlertEvent{EventID: droppedNoticeID(t, s.ID), Email: s.Email,
					TelegramChatID: s.TelegramChatID, Ticker: t, Condition: stockalert.SymbolDropped, Time: at})
				if err != nil {
					return fmt.Errorf("encode notice: %w", err)
				}
				msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: string(s.Email), Value: body})
			}
			if err := h.store.AppendOutbox(ctx, msgs...); err != nil {
				return err
			}
			dropped = append(dropped, t)
			notices += len(msgs)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("track unverified symbols: %w", err)
	}
	if len(dropped) > 0 {
		decorator.Report(ctx, slog.LevelWarn, "unverified symbols dropped", slog.String("event", "unverified-symbols-dropped"),
			slog.Any("dropped", dropped), slog.Int("notices", notices), slog.Int("max_misses", h.maxMisses))
	}
	return nil
}

// droppedNoticeID is the event id of the notice to subscription subID that ticker was dropped.
func droppedNoticeID(ticker stockalert.Ticker, subID int64) string {
	sum := sha256.Sum256([]byte("symbol-dropped/" + string(ticker) + "/" + strconv.FormatInt(subID, 10)))
	return hex.EncodeToString(sum[:16])
}
