-- +goose Up
-- Outbox claims: a relay claims the rows it is about to publish (claimed_by, a random token per relay
-- run; claimed_until, the end of its lease in ms) so that concurrent relays publish each row once; a
-- crashed relay's rows are claimed again once the lease has passed.
ALTER TABLE outbox
    ADD COLUMN claimed_by    VARCHAR(64) NULL,
    ADD COLUMN claimed_until BIGINT      NULL;

-- Parked outbox messages: ones the broker refused for good (too large, invalid topic, not authorised),
-- moved out of the queue with the reason so that later messages go on; kept for an operator, who may
-- queue them again. id is the message's outbox id.
CREATE TABLE outbox_parked (
    id         BIGINT        NOT NULL,
    topic      VARCHAR(249)  NOT NULL,
    msg_key    VARCHAR(255)  NOT NULL,
    payload    MEDIUMBLOB    NOT NULL,
    created_at BIGINT        NOT NULL,
    parked_at  BIGINT        NOT NULL,
    reason     VARCHAR(1024) NOT NULL,
    PRIMARY KEY (id),
    KEY outbox_parked_topic (topic, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Delivery claims: a notifier claims an alert (state 'sending') until claimed_until (ms) before it calls
-- Telegram, so two deliveries of one alert id never both send it.
ALTER TABLE notifications ADD COLUMN claimed_until BIGINT NULL;

-- +goose Down
ALTER TABLE notifications DROP COLUMN claimed_until;
DROP TABLE outbox_parked;
ALTER TABLE outbox DROP COLUMN claimed_until, DROP COLUMN claimed_by;
