-- +goose Up
-- Alert rules: a user may have many rules, several per ticker, of five kinds. The subscriptions table
-- becomes alert_rules and each existing subscription the user's "range" rule on its ticker: a range
-- is the high/low pair of the original API, at most one per (user, ticker), which range_ticker
-- enforces (it is the ticker for a range and NULL for every other kind; a unique index allows many
-- NULLs). Where each kind keeps its condition, so that one indexed statement per kind finds the rules
-- a price fires:
--   range, above, below  high_value / low_value: fires when price > high_value or price < low_value
--                        (above keeps its level in high_value, below in low_value)
--   move_pct             move_up_level / move_down_level, derived from reference and percent when the
--                        rule is written: fires when price >= move_up_level or <= move_down_level
--   change_pct           percent and direction, compared with the price event's day change
-- alert_state is 'armed' or the side of the breach ('above', 'below'); breached_since is when the
-- current breach began; done_at is set when a rule with repeat_mode 'once' fired (expires_at passing
-- also makes a rule done, without a write). Times are Unix milliseconds.
RENAME TABLE subscriptions TO alert_rules;

ALTER TABLE alert_rules
    ADD COLUMN kind            VARCHAR(16)  NOT NULL DEFAULT 'range',
    ADD COLUMN range_ticker    VARCHAR(16)  NULL,
    ADD COLUMN percent         DOUBLE       NULL,
    ADD COLUMN direction       VARCHAR(8)   NULL,
    ADD COLUMN reference       DOUBLE       NULL,
    ADD COLUMN move_up_level   DOUBLE       NULL,
    ADD COLUMN move_down_level DOUBLE       NULL,
    ADD COLUMN repeat_mode     VARCHAR(8)   NOT NULL DEFAULT 'rearm',
    ADD COLUMN expires_at      BIGINT       NULL,
    ADD COLUMN note            VARCHAR(200) NULL,
    ADD COLUMN breached_since  BIGINT       NULL,
    ADD COLUMN done_at         BIGINT       NULL;

UPDATE alert_rules SET range_ticker = ticker;
UPDATE alert_rules SET breached_since = last_alerted_at WHERE alert_state <> 'armed';

-- The foreign key on user_id needs an index at every moment: add the new ones before dropping the old.
CREATE INDEX alert_rules_user ON alert_rules (user_id, ticker);
CREATE UNIQUE INDEX alert_rules_range ON alert_rules (user_id, range_ticker);
DROP INDEX subscriptions_user_ticker ON alert_rules;
ALTER TABLE alert_rules RENAME INDEX subscriptions_ticker_high TO alert_rules_ticker_high;
ALTER TABLE alert_rules RENAME INDEX subscriptions_ticker_low TO alert_rules_ticker_low;
CREATE INDEX alert_rules_ticker_move_up ON alert_rules (ticker, move_up_level);
CREATE INDEX alert_rules_ticker_move_down ON alert_rules (ticker, move_down_level);
CREATE INDEX alert_rules_ticker_change ON alert_rules (ticker, kind, percent);

-- Prices carry the previous regular-session close when the quote source gives it (Yahoo's chart
-- meta.chartPreviousClose), so the day change can be shown and change_pct rules evaluated.
ALTER TABLE prices ADD COLUMN previous_close DOUBLE NULL;

-- Alerts: one row per alert raised, written in the evaluation's transaction beside its outbox message;
-- the history joins it with the notification log (the delivery outcome). rule_id is kept when the rule
-- is deleted; deleting the user deletes the rows.
CREATE TABLE alerts (
    event_id         VARCHAR(64)  NOT NULL,
    user_id          BIGINT       NOT NULL,
    rule_id          BIGINT       NOT NULL,
    ticker           VARCHAR(16)  NOT NULL,
    kind             VARCHAR(16)  NOT NULL,
    alert_condition  VARCHAR(16)  NOT NULL,
    price            DOUBLE       NOT NULL,
    currency         VARCHAR(8)   NOT NULL DEFAULT '',
    threshold        DOUBLE       NOT NULL,
    percent          DOUBLE       NULL,
    direction        VARCHAR(8)   NULL,
    day_change_pct   DOUBLE       NULL,
    rule_done        BOOLEAN      NOT NULL DEFAULT FALSE,
    raised_at        BIGINT       NOT NULL,
    PRIMARY KEY (event_id),
    KEY alerts_user (user_id, raised_at),
    CONSTRAINT alerts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The notification log keeps, beside the operator's error chain (last_error), the reason an
-- undeliverable alert is so in plain words, for the user's alert history.
ALTER TABLE notifications ADD COLUMN reason VARCHAR(255) NULL;

-- +goose Down
ALTER TABLE notifications DROP COLUMN reason;
DROP TABLE alerts;
ALTER TABLE prices DROP COLUMN previous_close;
DELETE FROM alert_rules WHERE kind <> 'range';
CREATE UNIQUE INDEX subscriptions_user_ticker ON alert_rules (user_id, ticker);
DROP INDEX alert_rules_range ON alert_rules;
DROP INDEX alert_rules_user ON alert_rules;
DROP INDEX alert_rules_ticker_change ON alert_rules;
DROP INDEX alert_rules_ticker_move_down ON alert_rules;
DROP INDEX alert_rules_ticker_move_up ON alert_rules;
ALTER TABLE alert_rules RENAME INDEX alert_rules_ticker_high TO subscriptions_ticker_high;
ALTER TABLE alert_rules RENAME INDEX alert_rules_ticker_low TO subscriptions_ticker_low;
ALTER TABLE alert_rules
    DROP COLUMN kind, DROP COLUMN range_ticker, DROP COLUMN percent, DROP COLUMN direction,
    DROP COLUMN reference, DROP COLUMN move_up_level, DROP COLUMN move_down_level,
    DROP COLUMN repeat_mode, DROP COLUMN expires_at, DROP COLUMN note, DROP COLUMN breached_since,
    DROP COLUMN done_at;
RENAME TABLE alert_rules TO subscriptions;
