package faas

import (
	"io"
	"log/slog"
	"os"
)

// NewLogger returns the process logger of function name: JSON or text lines on stderr per log_format,
// at log_level, each with a "function" attribute. Bad values fall back to JSON at info and are reported
// by ConfigFromEnv, which reads the same variables.
func NewLogger(name string) *slog.Logger {
	cfg, err := ConfigFromEnv()
	if err != nil {
		cfg = DefaultConfig()
	}
	return NewLoggerTo(os.Stderr, name, cfg)
}

// NewLoggerTo is NewLogger writing to w with the format and level of cfg.
func NewLoggerTo(w io.Writer, name string, cfg Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(h).With("function", name)
}
