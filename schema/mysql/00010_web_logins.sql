-- +goose Up
-- The web dashboard's sign-in. web_logins holds the one-time links the bot's /web issues (the SHA-256
-- of the code, never the code), each valid until expires_at (ms) and deleted when used; web_sessions
-- holds the signed-in browsers (the SHA-256 of the session id in their cookie) until expires_at (ms).
CREATE TABLE web_logins (
    code_hash  CHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    CONSTRAINT web_logins_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE web_sessions (
    id_hash    CHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT   NOT NULL,
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    CONSTRAINT web_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE web_logins;
