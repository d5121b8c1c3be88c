// Package adminapp is the composition root of stockalert-admin, the operator's command, in the style
// of the admin subcommands self-hosted services ship (gitea admin):
//
//	stockalert-admin users list [--email PART] [--ticker T] [--chat ID] [--limit N]
//	stockalert-admin users show EMAIL [--alerts N]
//	stockalert-admin users delete EMAIL
//	stockalert-admin users revoke-token EMAIL
//	stockalert-admin dlq list TOPIC [--partition P] [--from O] [--to O] [--group G]
//	stockalert-admin dlq redrive TOPIC (--all | [--partition P] --from O --to O) [--group G]
//	stockalert-admin outbox parked [--topic T] [--limit N]
//	stockalert-admin outbox requeue (ID... | --all [--topic T])
//	stockalert-admin health
//	stockalert-admin telegram menu
//
// Every subcommand takes --json (one JSON document on stdout instead of an aligned table) and the
// destructive ones (delete, revoke-token, redrive, requeue) --yes. Without --yes they ask on stdin and
// refuse, changing nothing, when stdin is not a terminal.
//
// Settings are the functions' own: the store is the one package configured opens (secret mysql-dsn /
// MYSQL_DSN, else SQLITE_PATH; secrets are read from secret_mount_path, default
// /var/openfaas/secrets/), the broker KAFKA_BROKERS (comma-separated; needed by dlq, optional for
// health, which then adds the consumer groups' lag), and the bot's token TELEGRAM_BOT_TOKEN (or secret
// telegram-bot-token) with TELEGRAM_API_URL (default https://api.telegram.org) for telegram menu. The command refuses to run on a SQLite file that
// does not exist (it would create an empty database). It exits 1 when a command fails: an
// unreachable broker (health still prints the store part), a missing topic, ids that outbox requeue
// found not parked.
package adminapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/envconfig"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

// Usage is the command's help text.
const Usage = `usage: stockalert-admin <command> [arguments] [--json] [--yes]

  users list [--email PART] [--ticker T] [--chat ID] [--limit N]   find users
  users show EMAIL [--alerts N]          a user's rules and last alerts (notification log)
  users delete EMAIL                     delete a user and all their data
  users revoke-token EMAIL               the current API token stops working; prints a new one once
  dlq list TOPIC [--partition P] [--from O] [--to O] [--group G]    dead letters of TOPIC (or TOPIC.dlq)
  dlq redrive TOPIC (--all | [--partition P] --from O --to O) [--group G]
                                         re-publish dead letters to their topic, each once
  outbox parked [--topic T] [--limit N]  messages Kafka refused for good
  outbox requeue (ID... | --all [--topic T])   queue parked messages again
  health                                 latest quotes, outbox backlog, parked rows, deliveries,
                                         and consumer lag when KAFKA_BROKERS is set
  telegram menu                          set the bot's "/" menus (setMyCommands, private chats and
                                         groups) to the telegram-bot function's commands

--json prints one JSON document instead of a table. delete, revoke-token, redrive and requeue ask
for confirmation on stdin unless --yes is given (and refuse when stdin is not a terminal).
Settings: MYSQL_DSN (or secret mysql-dsn) else SQLITE_PATH (data/stockalert.db), KAFKA_BROKERS;
TELEGRAM_BOT_TOKEN (or secret telegram-bot-token) and TELEGRAM_API_URL for telegram menu.
`

// IO is where the command talks to its operator.
type IO struct {
	Stdin io.Reader
	// StdinIsTerminal says whether a person can answer a confirmation on Stdin.
	StdinIsTerminal bool
	Stdout, Stderr  io.Writer
}

// ProcessIO is the process's standard streams.
func ProcessIO() IO {
	return IO{Stdin: os.Stdin, StdinIsTerminal: IsTerminal(os.Stdin), Stdout: os.Stdout, Stderr: os.Stderr}
}

// IsTerminal reports whether f is a terminal a person can type into (term.IsTerminal: the terminal
// ioctl succeeds). A pipe, a file and /dev/null are not, though /dev/null is a character device.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) } //nolint:gosec // G115: a file descriptor fits in int

// Deps are what the subcommands work against.
type Deps struct {
	// OpenStore opens the store; called only by the subcommands that need it. The caller closes it.
	OpenStore func(ctx context.Context) (*sqlstore.Store, error)
	// Brokers are Kafka's bootstrap brokers; empty when KAFKA_BROKERS is not set.
	Brokers []string
	// TelegramBotToken reads the Bot API token (telegram menu): ok false when none is set.
	// TelegramAPIURL is the Bot API's address (empty: Telegram's).
	TelegramBotToken func() (token string, ok bool, err error)
	TelegramAPIURL   string
}

// Exit codes of Main.
const (
	ExitOK    = 0
	ExitError = 1 // the command failed, or the operator did not confirm
	ExitUsage = 2 // bad arguments
)

// FromEnvironment builds Deps from the process environment, as the functions read it.
func FromEnvironment(stderr io.Writer) Deps {
	mount := os.Getenv("secret_mount_path")
	if mount == "" {
		mount = "/var/openfaas/secrets/"
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return Deps{
		OpenStore: func(ctx context.Context) (*sqlstore.Store, error) {
			secrets := faas.NewSecrets(mount)
			if err := requireSQLiteFile(secrets); err != nil {
				return nil, err
			}
			return configured.Open(ctx, secrets, logger)
		},
		Brokers: splitBrokers(os.Getenv("KAFKA_BROKERS")),
		TelegramBotToken: func() (string, bool, error) {
			return faas.NewSecrets(mount).Optional("telegram-bot-token", "TELEGRAM_BOT_TOKEN")
		},
		TelegramAPIURL: os.Getenv("TELEGRAM_API_URL"),
	}
}

// requireSQLiteFile returns an error naming SQLITE_PATH when the store would be the SQLite file (no
// MySQL DSN configured) and that file does not exist: opening it would create an empty database, so
// the command run from the wrong directory would report an empty system instead of failing.
func requireSQLiteFile(secrets configured.SecretSource) error {
	if _, ok, err := secrets.Optional(configured.MySQLDSNSecret, "MYSQL_DSN"); err != nil || ok {
		return err // nil, or the secret error configured.Open would return as is
	}
	var cfg configured.Config
	if err := envconfig.Parse(&cfg); err != nil {
		return fmt.Errorf("storage config: %w", err)
	}
	if _, err := os.Stat(cfg.SQLitePath); err != nil {
		abs, aerr := filepath.Abs(cfg.SQLitePath)
		if aerr != nil {
			abs = cfg.SQLitePath
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no database at %s (SQLITE_PATH=%q, relative to the current directory): "+
				"run the command where the functions keep their data, or set SQLITE_PATH or MYSQL_DSN", abs, cfg.SQLitePath)
		}
		return fmt.Errorf("database at %s (SQLITE_PATH): %w", abs, err)
	}
	return nil
}

func splitBrokers(v string) []string {
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Main runs the command with args (without the program name) against the environment's store and
// broker and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	return Run(ctx, FromEnvironment(stdio.Stderr), args, stdio)
}

// usageError is a mistake in the command line: exit code 2, with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errNotConfirmed is returned when the operator did not confirm a destructive command.
var errNotConfirmed = errors.New("not confirmed: nothing changed")

// Run runs the command with args against deps and returns the exit code; errors are written to
// stdio.Stderr in plain words.
func Run(ctx context.Context, deps Deps, args []string, stdio IO) int {
	err := dispatch(ctx, deps, args, stdio)
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		_, _ = io.WriteString(stdio.Stdout, Usage)
		return ExitOK
	case errors.As(err, &ue):
		_, _ = fmt.Fprintf(stdio.Stderr, "stockalert-admin: %s\n\n%s", ue.msg, Usage)
		return ExitUsage
	default:
		_, _ = fmt.Fprintf(stdio.Stderr, "stockalert-admin: %s\n", plainError(err, deps.Brokers))
		return ExitError
	}
}

// plainError says err in plain words where the client library's own words name its internals: no
// broker answering, and a topic that does not exist.
func plainError(err error, brokers []string) string {
	var unknown *kafkaconnector.UnknownTopicError
	var opErr *net.OpError
	switch {
	case errors.As(err, &unknown):
		return "topic " + unknown.Topic + " does not exist"
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.Is(err, syscall.ECONNREFUSED):
		return "cannot reach the Kafka brokers at " + strings.Join(brokers, ",") + " (KAFKA_BROKERS): is Kafka running?"
	}
	return err.Error()
}

func dispatch(ctx context.Context, deps Deps, args []string, stdio IO) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return flag.ErrHelp
	}
	c := &cmdline{deps: deps, io: stdio}
	switch key := strings.Join(args[:min(2, len(args))], " "); key {
	case "users list":
		return c.usersList(ctx, args[2:])
	case "users show":
		return c.usersShow(ctx, args[2:])
	case "users delete":
		return c.usersDelete(ctx, args[2:])
	case "users revoke-token":
		return c.usersRevokeToken(ctx, args[2:])
	case "dlq list":
		return c.dlqList(ctx, args[2:])
	case "dlq redrive":
		return c.dlqRedrive(ctx, args[2:])
	case "outbox parked":
		return c.outboxParked(ctx, args[2:])
	case "outbox requeue":
		return c.outboxRequeue(ctx, args[2:])
	default:
		if key == "telegram menu" {
			return c.telegramMenu(ctx, args[2:])
		}
		if args[0] == "health" {
			return c.health(ctx, args[1:])
		}
		return usagef("unknown command %q", key)
	}
}
