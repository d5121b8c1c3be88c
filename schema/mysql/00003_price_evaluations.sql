-- +goose Up
-- The newest quote time evaluated per ticker (ms): alert-system evaluates a price event only when it is
-- not older than this, so a late event (one retried after a newer price was evaluated) changes no
-- subscription state.
CREATE TABLE price_evaluations (
    ticker       VARCHAR(16) NOT NULL,
    evaluated_at BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE price_evaluations;
