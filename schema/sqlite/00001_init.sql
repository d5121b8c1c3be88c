-- +goose Up
-- Same tables, columns and indexes as the MySQL schema (see mysql/00001_init.sql for the comments).
CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL,
    token_hash        TEXT    NOT NULL,
    link_code_hash    TEXT    NULL,
    telegram_chat_id  INTEGER NULL,
    notify_interval_s INTEGER NOT NULL DEFAULT 3600,
    paused            INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_link_code ON users (link_code_hash);
CREATE UNIQUE INDEX users_telegram_chat ON users (telegram_chat_id);

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticker          TEXT    NOT NULL,
    high_value      REAL    NULL,
    low_value       REAL    NULL,
    alert_state     TEXT    NOT NULL DEFAULT 'armed',
    last_alerted_at INTEGER NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX subscriptions_user_ticker ON subscriptions (user_id, ticker);
CREATE INDEX subscriptions_ticker_high ON subscriptions (ticker, high_value);
CREATE INDEX subscriptions_ticker_low ON subscriptions (ticker, low_value);

CREATE TABLE prices (
    ticker      TEXT    NOT NULL,
    quoted_at   INTEGER NOT NULL,
    price       REAL    NOT NULL,
    currency    TEXT    NOT NULL DEFAULT '',
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (ticker, quoted_at)
) WITHOUT ROWID;

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT    NOT NULL,
    msg_key    TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_topic ON outbox (topic, id);

CREATE TABLE idempotency_keys (
    scope       TEXT    NOT NULL,
    idem_key    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    result      BLOB    NULL,
    user_id     INTEGER NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_user ON idempotency_keys (user_id);

CREATE TABLE notifications (
    event_id        TEXT    NOT NULL PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticker          TEXT    NOT NULL,
    alert_condition TEXT    NOT NULL,
    price           REAL    NOT NULL,
    threshold       REAL    NOT NULL,
    chat_id         INTEGER NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- +goose Down
DROP TABLE notifications;
DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE prices;
DROP TABLE subscriptions;
DROP TABLE users;
