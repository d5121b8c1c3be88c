package telegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/telegram"
)

func newPacer(t *testing.T, s *telegram.Sender, cfg telegram.PaceConfig) *telegram.Pacer {
	t.Helper()
	p, err := telegram.NewPacer(s, cfg)
	require.NoError(t, err)
	return p
}

// sendUntilAccepted sends to chat every 20 ms until the message is accepted, requiring every refusal
// in between to be the pacer's *RetryAfterError; it returns how many of those there were.
func sendUntilAccepted(t *testing.T, p *telegram.Pacer, chat int64) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for refused := 0; ; refused++ {
		err := p.Send(context.Background(), chat, "hello")
		if err == nil {
			return refused
		}
		var ra *telegram.RetryAfterError
		require.True(t, errors.As(err, &ra), "err = %v", err)
		require.LessOrEqual(t, ra.After, 2*time.Second, "the wait never exceeds what Telegram asked for")
		require.True(t, time.Now().Before(deadline), "never accepted")
		time.Sleep(20 * time.Millisecond) // the caller's next try; the pacer must refuse without calling Telegram
	}
}

// A 429 storm: Telegram answers 429 retry_after 1 for a second. With no waiting in place, the pacer
// answers every try in that second itself: Telegram sees the first call and the one after the window.
func TestPacerNeverCallsTelegramBeforeRetryAfter(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	p := newPacer(t, s, telegram.PaceConfig{MaxWait: 0, ChatPerSecond: 1000})
	fake.Flood(42, time.Second)
	refused := sendUntilAccepted(t, p, 42)
	require.Greater(t, refused, 10, "the caller tried again and again during the storm")
	require.Equal(t, 0, fake.EarlyCalls(), "no call before retry_after")
	require.Equal(t, 2, fake.Calls("sendMessage"), "the 429, then the accepted message")
	require.Len(t, fake.Messages(), 1)
}

// A retry_after within MaxWait is waited out in place: one Send, two calls, none early.
func TestPacerWaitsOutShortFloodsInPlace(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	p := newPacer(t, s, telegram.PaceConfig{MaxWait: 3 * time.Second, Attempts: 3})
	fake.Flood(42, time.Second)
	require.NoError(t, p.Send(context.Background(), 42, "hello"))
	require.Equal(t, 0, fake.EarlyCalls())
	require.Equal(t, 2, fake.Calls("sendMessage"))

	// A wait longer than ctx allows is not taken: the caller hears how long, Telegram hears nothing more.
	fake.Flood(43, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var ra *telegram.RetryAfterError
	require.ErrorAs(t, p.Send(ctx, 43, "hello"), &ra)
	require.Greater(t, ra.After, time.Second)
	require.NoError(t, ctx.Err(), "answered before ctx ended")
	require.Equal(t, 3, fake.Calls("sendMessage"))
	require.Equal(t, 0, fake.EarlyCalls())
}

// A flood seen on two chats at once is the bot's limit: every chat is held back, without a call, until
// it ends. (Telegram does not say which limit a 429 is about: the second chat's 429 tells.)
func TestPacerTakesTwoFloodedChatsAsTheBotsLimit(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	p := newPacer(t, s, telegram.PaceConfig{MaxWait: 0, ChatPerSecond: 1000})
	fake.Flood(0, time.Second)
	for _, chat := range []int64{1, 2} {
		var ra *telegram.RetryAfterError
		require.ErrorAs(t, p.Send(context.Background(), chat, "x"), &ra)
	}
	calls := fake.Calls("sendMessage")
	var ra *telegram.RetryAfterError
	require.ErrorAs(t, p.Send(context.Background(), 3, "x"), &ra)
	require.Equal(t, calls, fake.Calls("sendMessage"), "chat 3 is held back without a call")
	sendUntilAccepted(t, p, 3)
	require.Equal(t, 1, fake.EarlyCalls(), "only chat 2's call, which showed the flood is bot-wide")
}

// The documented pace up front: a group's second message within its per-minute pace is held back
// without a call, while a private chat goes through; the bot's own pace holds back every chat.
func TestPacerPacesUpFront(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	p := newPacer(t, s, telegram.PaceConfig{MaxWait: 0, GroupPerMinute: 1})
	now := time.Now()
	telegram.SetPacerClock(p, func() time.Time { return now }) // a second between sends: the bot's pace allows each
	require.NoError(t, p.Send(context.Background(), -5, "one"))
	now = now.Add(time.Second)
	err := p.Send(context.Background(), -5, "two")
	var ra *telegram.RetryAfterError
	require.ErrorAs(t, err, &ra)
	require.Greater(t, ra.After, 50*time.Second, "a group at 1/min waits about a minute")
	now = now.Add(time.Second)
	require.NoError(t, p.Send(context.Background(), 7, "other chat"), "other chats are not held up")
	require.Equal(t, 2, fake.Calls("sendMessage"))

	s2, fake2 := newSender(t)
	p2 := newPacer(t, s2, telegram.PaceConfig{MaxWait: 0, BotPerSecond: 1.0 / 60})
	require.NoError(t, p2.Send(context.Background(), 1, "one"))
	require.ErrorAs(t, p2.Send(context.Background(), 2, "two"), &ra)
	require.Equal(t, 1, fake2.Calls("sendMessage"))
}

func TestNewPacerRefusesNegativeSettings(t *testing.T) {
	t.Parallel()
	s, _ := newSender(t)
	for _, cfg := range []telegram.PaceConfig{{BotPerSecond: -1}, {ChatPerSecond: -1}, {GroupPerMinute: -1}, {MaxWait: -time.Second}} {
		_, err := telegram.NewPacer(s, cfg)
		require.Error(t, err, "%+v", cfg)
	}
}

// sendTimes sends n messages in a row (to the chats chatOf gives) on a virtual clock: the pacer never
// sleeps (MaxWait 0) and each *RetryAfterError moves the clock on by the wait it names, as a caller
// retrying at the earliest time would. It returns each accepted send's time after the start.
func sendTimes(t *testing.T, cfg telegram.PaceConfig, n int, chatOf func(i int) int64) []time.Duration {
	t.Helper()
	s, fake := newSender(t)
	p := newPacer(t, s, cfg)
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	now := start
	telegram.SetPacerClock(p, func() time.Time { return now })
	var at []time.Duration
	for i := range n {
		for refused := 0; ; refused++ {
			require.Less(t, refused, 10, "send %d never accepted", i)
			err := p.Send(context.Background(), chatOf(i), "hello")
			if err == nil {
				at = append(at, now.Sub(start))
				break
			}
			var ra *telegram.RetryAfterError
			require.ErrorAs(t, err, &ra)
			require.Positive(t, ra.After)
			now = now.Add(ra.After)
		}
	}
	require.Equal(t, n, fake.Calls("sendMessage"), "a refused send does not call Telegram")
	return at
}

// Telegram's limits are rates, not bursts: "no more than 30 messages per second" per bot, about 1 per
// second per chat, 20 per minute per group. N+1 messages in a row at N per period cannot all go out
// within the first period, and they go out evenly spaced.
func TestPacerSendsEvenlyWithoutABurst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    telegram.PaceConfig
		n      int // messages allowed per period
		period time.Duration
		chatOf func(i int) int64
	}{
		{"bot, distinct chats", telegram.PaceConfig{BotPerSecond: 30, ChatPerSecond: 1000}, 30, time.Second, func(i int) int64 { return int64(i + 1) }},
		{"one private chat", telegram.PaceConfig{ChatPerSecond: 1}, 1, time.Second, func(int) int64 { return 7 }},
		{"one group", telegram.PaceConfig{GroupPerMinute: 20}, 20, time.Minute, func(int) int64 { return -100 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := sendTimes(t, tc.cfg, tc.n+1, tc.chatOf)
			require.GreaterOrEqual(t, at[tc.n], tc.period, "message %d went out within the first %s: %v", tc.n+1, tc.period, at)
			gap := tc.period / time.Duration(tc.n)
			for i := 1; i < len(at); i++ {
				require.InDelta(t, gap, at[i]-at[i-1], float64(time.Millisecond), "gap before message %d: %v", i+1, at)
			}
		})
	}
}
