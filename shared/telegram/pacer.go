package telegram

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Telegram's documented pace (Bot API FAQ, "My bot is hitting limits, how do I avoid this?"): about 30
// messages per second per bot, 1 per second per chat, 20 per minute per group.
const (
	DefaultBotPerSecond   = 30.0
	DefaultChatPerSecond  = 1.0
	DefaultGroupPerMinute = 20.0
)

// PaceConfig configures a Pacer. A zero rate takes its default.
type PaceConfig struct {
	// BotPerSecond is the pace of the whole bot, in messages per second (DefaultBotPerSecond). Several
	// processes sending as one bot must share it: give each BotPerSecond/replicas.
	BotPerSecond float64
	// ChatPerSecond is the pace of one private chat (positive chat id), in messages per second
	// (DefaultChatPerSecond).
	ChatPerSecond float64
	// GroupPerMinute is the pace of one group or supergroup (negative chat id), in messages per minute
	// (DefaultGroupPerMinute).
	GroupPerMinute float64
	// MaxWait is the longest wait (the pace, or a retry_after Telegram asked for) Send takes in place.
	// A longer one is returned at once as a *RetryAfterError, and Telegram is not called.
	MaxWait time.Duration
	// Attempts bounds the sends of one message when Telegram answers 429 with a retry_after within
	// MaxWait (below 1 means 1).
	Attempts int
}

// Pacer decorates a sender (a *Sender) with Telegram's flood control, so that floods are rare and a
// flood never leads to a call Telegram told us not to make:
//
//   - Up front, it sends at Telegram's documented pace: a per-bot limiter and one limiter per chat
//     (golang.org/x/time/rate), groups (negative chat ids) at their per-minute pace. Every limiter has
//     a burst of 1, so messages are spread evenly: Telegram's limits are "no more than 30 messages per
//     second", "about one message per second" in a chat and "no more than 20 messages per minute" in a
//     group, and a larger burst would let the first second carry a full burst plus a second's pace.
//   - After a 429, it calls Telegram for that chat no sooner than retry_after (parameters.retry_after)
//     later. Telegram does not say which limit a 429 is about: a 429 for one chat holds back that chat;
//     when a second chat gets one while the first is still held back, it is taken as the bot's limit
//     and every chat is held back until the later of the two ends.
//   - A wait up to MaxWait (and within ctx's deadline) is taken in place; a longer one is returned at
//     once as a *RetryAfterError naming the wait, without calling Telegram, so the caller can answer
//     503 with Retry-After and try again later: asked again before the time, it again answers without
//     calling Telegram.
//
// The state (limiters, hold-backs) lives in the process: the per-chat pace holds across replicas as
// long as one chat's messages go through one process at a time (to-notifier is keyed by user), and the
// per-bot pace when each of N replicas gets BotPerSecond/N. It is safe for concurrent use.
type Pacer struct {
	next     messageSender
	cfg      PaceConfig
	now      func() time.Time // the clock the limiters and hold-backs are read with
	bot      *rate.Limiter
	mu       sync.Mutex
	chats    map[int64]*chatPace
	botUntil time.Time // a bot-wide hold-back
}

type chatPace struct {
	limiter  *rate.Limiter
	until    time.Time // held back by a 429 until then
	lastUsed time.Time
}

// sweepAbove is the number of chats remembered before idle ones are forgotten.
const sweepAbove = 4096

// NewPacer wraps next (a *Sender, or anything with its error contract). It returns an error for a
// negative rate or MaxWait.
func NewPacer(next messageSender, cfg PaceConfig) (*Pacer, error) {
	if cfg.BotPerSecond < 0 || cfg.ChatPerSecond < 0 || cfg.GroupPerMinute < 0 || cfg.MaxWait < 0 ||
		math.IsNaN(cfg.BotPerSecond+cfg.ChatPerSecond+cfg.GroupPerMinute) {
		return nil, fmt.Errorf("telegram pace: rates and the longest wait must not be negative: %+v", cfg)
	}
	if cfg.BotPerSecond == 0 {
		cfg.BotPerSecond = DefaultBotPerSecond
	}
	if cfg.ChatPerSecond == 0 {
		cfg.ChatPerSecond = DefaultChatPerSecond
	}
	if cfg.GroupPerMinute == 0 {
		cfg.GroupPerMinute = DefaultGroupPerMinute
	}
	cfg.Attempts = max(cfg.Attempts, 1)
	return &Pacer{
		next:  next,
		cfg:   cfg,
		now:   time.Now,
		bot:   rate.NewLimiter(rate.Limit(cfg.BotPerSecond), 1),
		chats: map[int64]*chatPace{},
	}, nil
}

// Send sends text to chatID at Telegram's pace. Its error contract is the wrapped sender's, plus: a
// *RetryAfterError, without a call to Telegram, when the chat or the bot is held back (or paced) for
// longer than MaxWait or than ctx leaves; ctx's error when ctx ends during a wait.
func (p *Pacer) Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error {
	for attempt := 1; ; attempt++ {
		if err := p.wait(ctx, chatID); err != nil {
			return err
		}
		err := p.next.Send(ctx, chatID, text, keyboard...)
		var ra *RetryAfterError
		if !errors.As(err, &ra) {
			return err
		}
		p.flood(chatID, ra.After)
		if attempt >= p.cfg.Attempts || ra.After > p.cfg.MaxWait {
			return err
		}
	}
}

// wait waits until chatID may be sent to: first out any hold-back, then the pace. It returns a
// *RetryAfterError when either is longer than MaxWait or ctx's deadline allows.
func (p *Pacer) wait(ctx context.Context, chatID int64) error {
	now := p.now()
	p.mu.Lock()
	c := p.chat(chatID, now)
	until := c.until
	if p.botUntil.After(until) {
		until = p.botUntil
	}
	p.mu.Unlock()
	if hold := until.Sub(now); hold > 0 {
		if err := p.sleep(ctx, hold, "held back by Telegram's flood control (429 retry_after)"); err != nil {
			return err
		}
	}
	now = p.now()
	rb, rc := p.bot.ReserveN(now, 1), c.limiter.ReserveN(now, 1)
	pace := max(rb.DelayFrom(now), rc.DelayFrom(now))
	if err := p.sleep(ctx, pace, "paced to Telegram's limits"); err != nil {
		rb.CancelAt(now)
		rc.CancelAt(now)
		return err
	}
	return nil
}

// sleep waits d, or returns a *RetryAfterError when d is too long to wait here.
func (p *Pacer) sleep(ctx context.Context, d time.Duration, why string) error {
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); d > p.cfg.MaxWait || (ok && time.Until(deadline) < d) {
		return &RetryAfterError{After: d, Description: why + "; not sent"}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait %s (%s): %w", d, why, ctx.Err())
	}
}

// flood records a 429 for chatID: that chat is held back for after, and the whole bot when another chat
// is held back already.
func (p *Pacer) flood(chatID int64, after time.Duration) {
	now := p.now()
	until := now.Add(after)
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.chats {
		if id != chatID && c.until.After(now) {
			p.botUntil = maxTime(p.botUntil, maxTime(until, c.until))
			break
		}
	}
	c := p.chat(chatID, now)
	c.until = maxTime(c.until, until)
}

// chat returns chatID's state, creating it; p.mu must be held.
func (p *Pacer) chat(chatID int64, now time.Time) *chatPace {
	c, ok := p.chats[chatID]
	if !ok {
		if len(p.chats) >= sweepAbove {
			p.sweep(now)
		}
		limit := rate.Limit(p.cfg.ChatPerSecond)
		if chatID < 0 {
			limit = rate.Limit(p.cfg.GroupPerMinute / 60)
		}
		c = &chatPace{limiter: rate.NewLimiter(limit, 1)}
		p.chats[chatID] = c
	}
	c.lastUsed = now
	return c
}

// sweep forgets chats that are neither held back nor paced; p.mu must be held.
func (p *Pacer) sweep(now time.Time) {
	for id, c := range p.chats {
		if !c.until.After(now) && c.limiter.TokensAt(now) >= 1 && now.Sub(c.lastUsed) > time.Minute {
			delete(p.chats, id)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
