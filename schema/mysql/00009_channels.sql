-- +goose Up
-- Channels beside Telegram. user_channels holds a user's setting of the e-mail and webhook channels
-- (Telegram's stays on users: telegram_chat_id, and telegram_enabled below): enabled, the target (the
-- webhook URL; the account's address for e-mail), whether the e-mail address was confirmed, the
-- webhook's signing secret, the consecutive failures and why the system turned it off.
CREATE TABLE user_channels (
    user_id         BIGINT        NOT NULL,
    channel         VARCHAR(16)   NOT NULL,
    enabled         BOOLEAN       NOT NULL DEFAULT FALSE,
    target          VARCHAR(2048) NOT NULL DEFAULT '',
    verified_at     BIGINT        NULL,
    secret          VARCHAR(128)  NULL,
    failures        INT           NOT NULL DEFAULT 0,
    disabled_reason VARCHAR(255)  NULL,
    updated_at      BIGINT        NOT NULL,
    PRIMARY KEY (user_id, channel),
    CONSTRAINT user_channels_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE users ADD COLUMN telegram_enabled BOOLEAN NOT NULL DEFAULT TRUE;

-- A rule may name the channels it goes to (a comma-separated list); NULL: all the user's enabled ones.
ALTER TABLE alert_rules ADD COLUMN channels VARCHAR(64) NULL;

-- One delivery per (alert, channel) for the channels beside Telegram (whose log stays in
-- notifications): its state (sending, sent, failed, undeliverable), attempts, the operator's error and
-- the user's reason, and the claim a delivery holds while it sends.
CREATE TABLE deliveries (
    event_id      VARCHAR(64)   NOT NULL,
    channel       VARCHAR(16)   NOT NULL,
    user_id       BIGINT        NOT NULL,
    state         VARCHAR(16)   NOT NULL,
    attempts      INT           NOT NULL DEFAULT 0,
    last_error    VARCHAR(1024) NULL,
    reason        VARCHAR(255)  NULL,
    claimed_until BIGINT        NULL,
    created_at    BIGINT        NOT NULL,
    updated_at    BIGINT        NOT NULL,
    PRIMARY KEY (event_id, channel),
    KEY deliveries_user (user_id, created_at),
    CONSTRAINT deliveries_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One-time codes that confirm an e-mail address (the link in the verification mail, or the code sent
-- to the bot), stored as SHA-256 hashes, each valid until expires_at.
CREATE TABLE email_verifications (
    code_hash  CHAR(64)     NOT NULL,
    user_id    BIGINT       NOT NULL,
    email      VARCHAR(254) NOT NULL,
    created_at BIGINT       NOT NULL,
    expires_at BIGINT       NOT NULL,
    PRIMARY KEY (code_hash),
    KEY email_verifications_user (user_id, created_at),
    CONSTRAINT email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE email_verifications;
DROP TABLE deliveries;
ALTER TABLE alert_rules DROP COLUMN channels;
ALTER TABLE users DROP COLUMN telegram_enabled;
DROP TABLE user_channels;
