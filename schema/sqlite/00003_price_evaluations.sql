-- +goose Up
-- The newest quote time evaluated per ticker (ms): alert-system evaluates a price event only when it is
-- not older than this, so a late event (one retried after a newer price was evaluated) changes no
-- subscription state.
CREATE TABLE price_evaluations (
    ticker       TEXT    NOT NULL PRIMARY KEY,
    evaluated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE price_evaluations;
