-- +goose Up
-- Users: one row per e-mail. Secrets (API token, Telegram link code) are stored only as SHA-256 hashes.
CREATE TABLE users (
    id                BIGINT       NOT NULL AUTO_INCREMENT,
    email             VARCHAR(254) NOT NULL,
    token_hash        CHAR(64)     NOT NULL,
    link_code_hash    CHAR(64)     NULL,
    telegram_chat_id  BIGINT       NULL,
    notify_interval_s INT          NOT NULL DEFAULT 3600,
    paused            BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at        BIGINT       NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email (email),
    UNIQUE KEY users_link_code (link_code_hash),
    UNIQUE KEY users_telegram_chat (telegram_chat_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Subscriptions: a user watches a ticker with an optional high and/or low bound, and carries the alert
-- policy's state. The two (ticker, bound) indexes serve "subscriptions of T breached by price p".
CREATE TABLE subscriptions (
    id              BIGINT      NOT NULL AUTO_INCREMENT,
    user_id         BIGINT      NOT NULL,
    ticker          VARCHAR(16) NOT NULL,
    high_value      DOUBLE      NULL,
    low_value       DOUBLE      NULL,
    alert_state     VARCHAR(8)  NOT NULL DEFAULT 'armed',
    last_alerted_at BIGINT      NULL,
    created_at      BIGINT      NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY subscriptions_user_ticker (user_id, ticker),
    KEY subscriptions_ticker_high (ticker, high_value),
    KEY subscriptions_ticker_low (ticker, low_value),
    CONSTRAINT subscriptions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Prices: one row per (ticker, quote time), shared by every subscriber. The primary key serves "latest
-- price of T" and "last N prices of T" as a backward index range scan.
CREATE TABLE prices (
    ticker      VARCHAR(16) NOT NULL,
    quoted_at   BIGINT      NOT NULL,
    price       DOUBLE      NOT NULL,
    currency    VARCHAR(8)  NOT NULL DEFAULT '',
    recorded_at BIGINT      NOT NULL,
    PRIMARY KEY (ticker, quoted_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Outbox: events written in the same transaction as the change they announce, deleted once published.
CREATE TABLE outbox (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    topic      VARCHAR(249) NOT NULL,
    msg_key    VARCHAR(255) NOT NULL,
    payload    MEDIUMBLOB   NOT NULL,
    created_at BIGINT       NOT NULL,
    PRIMARY KEY (id),
    KEY outbox_topic (topic, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Idempotency records for at-most-once commands: the (scope, key) row is claimed inside the command's
-- transaction and keeps the first result until it expires. Deleting the owning user deletes them.
CREATE TABLE idempotency_keys (
    scope       VARCHAR(32)  NOT NULL,
    idem_key    VARCHAR(160) NOT NULL,
    fingerprint CHAR(64)     NOT NULL,
    result      MEDIUMBLOB   NULL,
    user_id     BIGINT       NULL,
    created_at  BIGINT       NOT NULL,
    expires_at  BIGINT       NOT NULL,
    PRIMARY KEY (scope, idem_key),
    KEY idempotency_keys_expiry (expires_at),
    CONSTRAINT idempotency_keys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Notification log: one row per alert event, with its delivery state (pending, sent, undeliverable, failed).
CREATE TABLE notifications (
    event_id        VARCHAR(64)   NOT NULL,
    user_id         BIGINT        NOT NULL,
    ticker          VARCHAR(16)   NOT NULL,
    alert_condition VARCHAR(8)    NOT NULL,
    price           DOUBLE        NOT NULL,
    threshold       DOUBLE        NOT NULL,
    chat_id         BIGINT        NULL,
    state           VARCHAR(16)   NOT NULL,
    attempts        INT           NOT NULL DEFAULT 0,
    last_error      VARCHAR(1024) NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    PRIMARY KEY (event_id),
    KEY notifications_user (user_id, created_at),
    CONSTRAINT notifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE notifications;
DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE prices;
DROP TABLE subscriptions;
DROP TABLE users;
