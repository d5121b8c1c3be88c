-- +goose Up
-- Quiet hours: alerts raised during them are logged with state 'held' and summed up in one message
-- when they end. The data-collector's run looks for users with held alerts every minute: this index
-- keeps that look-up off a scan of the whole notification log. The summary is logged as an entry
-- with condition 'quiet-hours-summary' (and notices as 'symbol-dropped'), longer than the 8
-- characters the log's condition had.
CREATE INDEX notifications_state ON notifications (state, user_id, created_at);
ALTER TABLE notifications MODIFY alert_condition VARCHAR(32) NOT NULL;

-- +goose Down
DROP INDEX notifications_state ON notifications;
