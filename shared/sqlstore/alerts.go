package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockalert/stockalert/shared/command"
)

// alertColumns is how many values one alerts row takes.
const alertColumns = 14

// RecordAlerts adds the alerts to the alert history (the alerts table), in the caller's transaction;
// an alert already recorded (the same event id, from a redelivered price event) is left as it was.
func (s *Store) RecordAlerts(ctx context.Context, alerts []command.RaisedAlert) error {
	for len(alerts) > 0 {
		chunk := alerts[:min(len(alerts), 200)]
		alerts = alerts[len(chunk):]
		args := make([]any, 0, len(chunk)*alertColumns)
		for _, a := range chunk {
			e := a.Event
			var percent sql.NullFloat64
			if e.Percent != 0 {
				percent = sql.NullFloat64{Float64: e.Percent, Valid: true}
			}
			var direction sql.NullString
			if e.Direction != "" {
				direction = sql.NullString{String: string(e.Direction), Valid: true}
			}
			args = append(args, e.EventID, a.UserID, a.RuleID, e.Ticker, e.Kind, e.Condition, e.Price, e.Currency,
				e.Threshold, percent, direction, nullFloat(e.DayChangePercent), e.RuleDone, ms(e.Time))
		}
		_, err := s.q(ctx).ExecContext(ctx,
			`INSERT INTO alerts (event_id, user_id, rule_id, ticker, kind, alert_condition, price, currency,
			                     threshold, percent, direction, day_change_pct, rule_done, raised_at) VALUES `+
				placeholders(len(chunk), alertColumns)+s.d.onConflictDoNothing("ticker"), args...)
		if err != nil {
			return fmt.Errorf("record %d alerts: %w", len(chunk), err)
		}
	}
	return nil
}
