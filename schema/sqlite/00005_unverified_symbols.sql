-- +goose Up
-- Symbols accepted while the quote source could not be asked (unreachable, breaker open): misses counts
-- the collector runs since that found the symbol unknown; at UNVERIFIED_SYMBOL_MAX_MISSES the collector
-- drops its subscriptions and tells their users. A run that prices it removes the row (verified).
CREATE TABLE unverified_symbols (
    ticker     TEXT    NOT NULL PRIMARY KEY,
    misses     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE unverified_symbols;
