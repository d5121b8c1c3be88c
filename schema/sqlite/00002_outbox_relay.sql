-- +goose Up
-- Same changes as mysql/00002_outbox_relay.sql (see there for the comments).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NULL;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NULL;

CREATE TABLE outbox_parked (
    id         INTEGER NOT NULL PRIMARY KEY,
    topic      TEXT    NOT NULL,
    msg_key    TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    parked_at  INTEGER NOT NULL,
    reason     TEXT    NOT NULL
);
CREATE INDEX outbox_parked_topic ON outbox_parked (topic, id);

ALTER TABLE notifications ADD COLUMN claimed_until INTEGER NULL;

-- +goose Down
ALTER TABLE notifications DROP COLUMN claimed_until;
DROP TABLE outbox_parked;
ALTER TABLE outbox DROP COLUMN claimed_until;
ALTER TABLE outbox DROP COLUMN claimed_by;
