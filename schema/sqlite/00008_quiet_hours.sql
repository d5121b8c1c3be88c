-- +goose Up
-- Same change as mysql/00008_quiet_hours.sql (see there for the comment).
CREATE INDEX notifications_state ON notifications (state, user_id, created_at);

-- +goose Down
DROP INDEX notifications_state;
