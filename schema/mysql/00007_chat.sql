-- +goose Up
-- The chat as the app. Users choose the time zone every time shown to them is written in (an IANA
-- name, /tz) and quiet hours (/quiet), minutes after midnight in that zone: alerts raised from
-- quiet_start until quiet_end are held, not sent (both NULL: none). A rule may be snoozed (the alert
-- message's "Snooze 1h" button): it does not fire before snoozed_until (ms).
ALTER TABLE users
    ADD COLUMN time_zone   VARCHAR(64) NOT NULL DEFAULT 'UTC',
    ADD COLUMN quiet_start SMALLINT    NULL,
    ADD COLUMN quiet_end   SMALLINT    NULL;

ALTER TABLE alert_rules ADD COLUMN snoozed_until BIGINT NULL;

-- +goose Down
ALTER TABLE alert_rules DROP COLUMN snoozed_until;
ALTER TABLE users DROP COLUMN quiet_end, DROP COLUMN quiet_start, DROP COLUMN time_zone;
