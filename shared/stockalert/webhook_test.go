package stockalert_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
)

func TestParseWebhookURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.example.com/a?b=1": "https://hooks.example.com/a?b=1",
		"HTTPS://hooks.example.com:8443/": "https://hooks.example.com:8443/",
		"https://[2001:db8::1]/hook":      "https://[2001:db8::1]/hook",
	} {
		got, err := stockalert.ParseWebhookURL("url", raw, false)
		require.NoError(t, err, raw)
		require.Equal(t, want, got)
	}
	for _, raw := range []string{"", "hooks.example.com", "//hooks.example.com/a", "https://", "https://u@hooks.example.com/",
		"https://hooks.example.com/#x", "mailto:a@example.com", "http://hooks.example.com/", "http://localhost/",
		"javascript:alert(1)", "https://hooks.example.com/" + strings.Repeat("x", stockalert.MaxWebhookURLLength)} {
		_, err := stockalert.ParseWebhookURL("url", raw, false)
		v, ok := stockalert.AsValidation(err)
		require.True(t, ok, "%q: %v", raw, err)
		require.Equal(t, "url", v.Field)
	}
	for _, raw := range []string{"http://localhost:9000/a", "http://127.0.0.1/a", "http://[::1]:9000/a"} {
		_, err := stockalert.ParseWebhookURL("url", raw, true)
		require.NoError(t, err, raw)
	}
	_, err := stockalert.ParseWebhookURL("url", "http://10.0.0.1/a", true)
	require.Error(t, err, "http only on loopback")
}

func TestNewWebhookSecret(t *testing.T) {
	a, b := stockalert.NewWebhookSecret(), stockalert.NewWebhookSecret()
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, "whsec_"))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	require.NoError(t, err)
	require.Len(t, key, 32)
}
