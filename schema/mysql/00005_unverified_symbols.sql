-- +goose Up
-- Symbols accepted while the quote source could not be asked (unreachable, breaker open): misses counts
-- the collector runs since that found the symbol unknown; at UNVERIFIED_SYMBOL_MAX_MISSES the collector
-- drops its subscriptions and tells their users. A run that prices it removes the row (verified).
CREATE TABLE unverified_symbols (
    ticker     VARCHAR(16) NOT NULL,
    misses     INT         NOT NULL DEFAULT 0,
    created_at BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE unverified_symbols;
