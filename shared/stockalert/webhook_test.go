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
		"https://Hooks.Example.COM./a":    "https://hooks.example.com./a",
		"https://bücher.example/hook":     "https://xn--bcher-kva.example/hook",
		"https://hooks.example.com:65535": "https://hooks.example.com:65535",
		"https://hooks_1.example.com/":    "https://hooks_1.example.com/",
	} {
		got, err := stockalert.ParseWebhookURL("url", raw, false)
		require.NoError(t, err, raw)
		require.Equal(t, want, got)
	}
	for _, raw := range []string{"", "hooks.example.com", "//hooks.example.com/a", "https://", "https://u@hooks.example.com/",
		"https://hooks.example.com/#x", "mailto:a@example.com", "http://hooks.example.com/", "http://localhost/",
		"javascript:alert(1)", "https://hooks.example.com/" + strings.Repeat("x", stockalert.MaxWebhookURLLength),
		// Ports outside 1–65535 and host names DNS cannot hold are refused here, not left to fail at
		// every delivery.
		"https://hooks.example.com:99999/", "https://hooks.example.com:0/", "https://./", "https://-/a", "https://a..example/",
		"https://-hooks.example.com/", "https://hooks!.example.com/", "https://" + strings.Repeat("a", 64) + ".example.com/"} {
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
