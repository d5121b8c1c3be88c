-- +goose Up
-- Same changes as mysql/00007_chat.sql (see there for the comments).
ALTER TABLE users ADD COLUMN time_zone   TEXT    NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN quiet_start INTEGER NULL;
ALTER TABLE users ADD COLUMN quiet_end   INTEGER NULL;
ALTER TABLE alert_rules ADD COLUMN snoozed_until INTEGER NULL;

-- +goose Down
ALTER TABLE alert_rules DROP COLUMN snoozed_until;
ALTER TABLE users DROP COLUMN quiet_end;
ALTER TABLE users DROP COLUMN quiet_start;
ALTER TABLE users DROP COLUMN time_zone;
