-- +goose Up
-- Same changes as mysql/00006_alert_rules.sql (see there for the comments).
ALTER TABLE subscriptions RENAME TO alert_rules;

ALTER TABLE alert_rules ADD COLUMN kind            TEXT    NOT NULL DEFAULT 'range';
ALTER TABLE alert_rules ADD COLUMN range_ticker    TEXT    NULL;
ALTER TABLE alert_rules ADD COLUMN percent         REAL    NULL;
ALTER TABLE alert_rules ADD COLUMN direction       TEXT    NULL;
ALTER TABLE alert_rules ADD COLUMN reference       REAL    NULL;
ALTER TABLE alert_rules ADD COLUMN move_up_level   REAL    NULL;
ALTER TABLE alert_rules ADD COLUMN move_down_level REAL    NULL;
ALTER TABLE alert_rules ADD COLUMN repeat_mode     TEXT    NOT NULL DEFAULT 'rearm';
ALTER TABLE alert_rules ADD COLUMN expires_at      INTEGER NULL;
ALTER TABLE alert_rules ADD COLUMN note            TEXT    NULL;
ALTER TABLE alert_rules ADD COLUMN breached_since  INTEGER NULL;
ALTER TABLE alert_rules ADD COLUMN done_at         INTEGER NULL;

UPDATE alert_rules SET range_ticker = ticker;
UPDATE alert_rules SET breached_since = last_alerted_at WHERE alert_state <> 'armed';

DROP INDEX subscriptions_user_ticker;
DROP INDEX subscriptions_ticker_high;
DROP INDEX subscriptions_ticker_low;
CREATE INDEX alert_rules_user ON alert_rules (user_id, ticker);
CREATE UNIQUE INDEX alert_rules_range ON alert_rules (user_id, range_ticker);
CREATE INDEX alert_rules_ticker_high ON alert_rules (ticker, high_value);
CREATE INDEX alert_rules_ticker_low ON alert_rules (ticker, low_value);
CREATE INDEX alert_rules_ticker_move_up ON alert_rules (ticker, move_up_level);
CREATE INDEX alert_rules_ticker_move_down ON alert_rules (ticker, move_down_level);
CREATE INDEX alert_rules_ticker_change ON alert_rules (ticker, kind, percent);

ALTER TABLE prices ADD COLUMN previous_close REAL NULL;

CREATE TABLE alerts (
    event_id        TEXT    NOT NULL PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rule_id         INTEGER NOT NULL,
    ticker          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    alert_condition TEXT    NOT NULL,
    price           REAL    NOT NULL,
    currency        TEXT    NOT NULL DEFAULT '',
    threshold       REAL    NOT NULL,
    percent         REAL    NULL,
    direction       TEXT    NULL,
    day_change_pct  REAL    NULL,
    rule_done       INTEGER NOT NULL DEFAULT 0,
    raised_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_user ON alerts (user_id, raised_at);

ALTER TABLE notifications ADD COLUMN reason TEXT NULL;

-- +goose Down
ALTER TABLE notifications DROP COLUMN reason;
DROP TABLE alerts;
ALTER TABLE prices DROP COLUMN previous_close;
DELETE FROM alert_rules WHERE kind <> 'range';
DROP INDEX alert_rules_ticker_change;
DROP INDEX alert_rules_ticker_move_down;
DROP INDEX alert_rules_ticker_move_up;
DROP INDEX alert_rules_ticker_low;
DROP INDEX alert_rules_ticker_high;
DROP INDEX alert_rules_range;
DROP INDEX alert_rules_user;
ALTER TABLE alert_rules DROP COLUMN done_at;
ALTER TABLE alert_rules DROP COLUMN breached_since;
ALTER TABLE alert_rules DROP COLUMN note;
ALTER TABLE alert_rules DROP COLUMN expires_at;
ALTER TABLE alert_rules DROP COLUMN repeat_mode;
ALTER TABLE alert_rules DROP COLUMN move_down_level;
ALTER TABLE alert_rules DROP COLUMN move_up_level;
ALTER TABLE alert_rules DROP COLUMN reference;
ALTER TABLE alert_rules DROP COLUMN direction;
ALTER TABLE alert_rules DROP COLUMN percent;
ALTER TABLE alert_rules DROP COLUMN range_ticker;
ALTER TABLE alert_rules DROP COLUMN kind;
ALTER TABLE alert_rules RENAME TO subscriptions;
CREATE UNIQUE INDEX subscriptions_user_ticker ON subscriptions (user_id, ticker);
CREATE INDEX subscriptions_ticker_high ON subscriptions (ticker, high_value);
CREATE INDEX subscriptions_ticker_low ON subscriptions (ticker, low_value);
