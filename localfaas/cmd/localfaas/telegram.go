package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stockalert/stockalert/localfaas/secret"
	"github.com/stockalert/stockalert/localfaas/trigger"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// defaultTelegramAPIURL is the real Bot API.
const defaultTelegramAPIURL = "https://api.telegram.org"

// telegramAPIURLFile keeps, next to the data folder's secrets, the Bot API address the kept token was
// last used with.
func telegramAPIURLFile(dataDir string) string { return filepath.Join(dataDir, "telegram-api-url") }

// telegramSecrets writes the bot token (TELEGRAM_BOT_TOKEN, else the one kept in the secrets folder)
// and the webhook secret (TELEGRAM_WEBHOOK_SECRET, else the kept one, else a new random one) as
// function secrets, and returns the forwarder's configuration — or nil when no token is known — and
// where the token came from, in words.
//
// The Bot API address goes with the token: a token given now uses TELEGRAM_API_URL, or the real Bot API
// when that is unset, and the address is kept with it; a kept token uses the address kept with it
// unless TELEGRAM_API_URL says otherwise (then the source says both). So a token kept from a run
// against a fake server never silently goes to api.telegram.org, nor the other way round.
func telegramSecrets(secrets *secret.Store, cfg config, dataDir string) (*trigger.TelegramConfig, string, error) {
	given := cfg.TelegramToken != ""
	token, err := secrets.Ensure("telegram-bot-token", cfg.TelegramToken, "")
	if err != nil {
		return nil, "", fmt.Errorf("telegram: %w", err)
	}
	if token == "" {
		return nil, "", nil
	}
	kept, err := os.ReadFile(telegramAPIURLFile(dataDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("telegram: the API URL kept with the token: %w", err)
	}
	keptURL := strings.TrimSpace(string(kept))
	url, source := cfg.TelegramAPIURL, "from TELEGRAM_BOT_TOKEN"
	switch {
	case given && url == "":
		url = defaultTelegramAPIURL
	case given:
	case url == "" && keptURL != "":
		url = keptURL
		source = "kept from an earlier run in " + secrets.Dir() + ", with its API URL " + keptURL
	case url == "":
		url = defaultTelegramAPIURL
		source = "kept from an earlier run in " + secrets.Dir() + " (no API URL kept with it: the real Bot API)"
	case keptURL != "" && keptURL != url:
		source = "kept from an earlier run in " + secrets.Dir() + " against " + keptURL + ", now used with TELEGRAM_API_URL " + url
	default:
		source = "kept from an earlier run in " + secrets.Dir()
	}
	//nolint:gosec // G703: the path is the operator's own DATA_DIR
	if err := os.WriteFile(telegramAPIURLFile(dataDir), []byte(url+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("telegram: keep the API URL with the token: %w", err)
	}
	webhookSecret, err := secrets.Ensure("telegram-webhook-secret", cfg.TelegramSecret, stockalert.NewSecret())
	if err != nil {
		return nil, "", fmt.Errorf("telegram: %w", err)
	}
	return &trigger.TelegramConfig{Token: token, APIURL: url, Function: telegramFunction, Secret: webhookSecret}, source, nil
}
