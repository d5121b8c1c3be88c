-- +goose Up
-- Where each price comes from: 'yahoo' (the market) or 'simulated' (QUOTE_SOURCE=simulated), so a made-up
-- price is shown as such and never averaged with real ones. Rows recorded before this migration count
-- as 'yahoo'.
ALTER TABLE prices ADD COLUMN source TEXT NOT NULL DEFAULT 'yahoo';

-- +goose Down
ALTER TABLE prices DROP COLUMN source;
