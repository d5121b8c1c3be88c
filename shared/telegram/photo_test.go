package telegram_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
)

// The photo reaches the Bot API as an uploaded file, bytes and caption intact.
func TestSendPhotoUploadsTheBytesWithTheCaption(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	png := []byte("\x89PNG\r\n\x1a\n fake picture bytes \x00\x01\x02")
	require.NoError(t, s.SendPhoto(context.Background(), 42, png, "AAPL · 5d · 201.30 USD"))
	photos := fake.Photos()
	require.Len(t, photos, 1)
	require.Equal(t, int64(42), photos[0].ChatID)
	require.Equal(t, "AAPL · 5d · 201.30 USD", photos[0].Caption)
	require.Equal(t, png, photos[0].Photo)
}

// Bad input is refused before anything is sent; Telegram's refusals are classified as Send's.
func TestSendPhotoErrors(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	ctx := context.Background()
	for _, tc := range []struct {
		chat    int64
		png     []byte
		caption string
	}{
		{0, []byte("x"), ""},
		{42, nil, ""},
		{42, []byte("x"), strings.Repeat("a", telegram.MaxCaptionLen+1)},
	} {
		err := s.SendPhoto(ctx, tc.chat, tc.png, tc.caption)
		require.ErrorIs(t, err, telegram.ErrUndeliverable)
		var v *stockalert.ValidationError
		require.ErrorAs(t, err, &v)
	}
	require.Zero(t, fake.Calls("sendPhoto"), "nothing sent")

	fake.RejectChat(7, 403, "Forbidden: bot was blocked by the user")
	err := s.SendPhoto(ctx, 7, []byte("x"), "")
	require.ErrorIs(t, err, telegram.ErrChatGone)
	fake.FailNext("sendPhoto", 429, "Too Many Requests: retry after 3", 3)
	err = s.SendPhoto(ctx, 42, []byte("x"), "")
	var ra *telegram.RetryAfterError
	require.True(t, errors.As(err, &ra))
}
