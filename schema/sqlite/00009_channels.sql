-- +goose Up
-- Same changes as mysql/00009_channels.sql (see there for the comments).
CREATE TABLE user_channels (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 0,
    target          TEXT    NOT NULL DEFAULT '',
    verified_at     INTEGER NULL,
    secret          TEXT    NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT    NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel)
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN telegram_enabled INTEGER NOT NULL DEFAULT 1;

ALTER TABLE alert_rules ADD COLUMN channels TEXT NULL;

CREATE TABLE deliveries (
    event_id      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NULL,
    reason        TEXT    NULL,
    claimed_until INTEGER NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (event_id, channel)
) WITHOUT ROWID;
CREATE INDEX deliveries_user ON deliveries (user_id, created_at);

CREATE TABLE email_verifications (
    code_hash  TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX email_verifications_user ON email_verifications (user_id, created_at);

-- +goose Down
DROP TABLE email_verifications;
DROP TABLE deliveries;
ALTER TABLE alert_rules DROP COLUMN channels;
ALTER TABLE users DROP COLUMN telegram_enabled;
DROP TABLE user_channels;
