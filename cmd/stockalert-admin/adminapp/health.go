package adminapp

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// healthJSON is health --json.
type healthJSON struct {
	// LastRecordedAt is when the collector last recorded a quote (its last run that priced something).
	LastRecordedAt *time.Time        `json:"last_recorded_at"`
	Tickers        []tickerJSON      `json:"tickers"`
	Outbox         []backlogJSON     `json:"outbox"`
	Parked         []backlogJSON     `json:"parked"`
	Notifications  map[string]int    `json:"notifications"`
	Lag            []consumerLagJSON `json:"consumer_lag,omitempty"`
	// LagError says why the lag is missing when KAFKA_BROKERS is set but the broker did not answer.
	LagError string `json:"consumer_lag_error,omitempty"`
}

type tickerJSON struct {
	Ticker      stockalert.Ticker `json:"ticker"`
	Subscribers int               `json:"subscribers"`
	QuotedAt    *time.Time        `json:"quoted_at"`
	RecordedAt  *time.Time        `json:"recorded_at"`
}

type backlogJSON struct {
	Topic  string    `json:"topic"`
	Rows   int       `json:"rows"`
	Oldest time.Time `json:"oldest"`
}

type consumerLagJSON struct {
	Group string `json:"group"`
	State string `json:"state"`
	Topic string `json:"topic"`
	Lag   int64  `json:"lag"`
}

func (c *cmdline) health(ctx context.Context, args []string) error {
	fs := c.flags("health", false)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		h, err := s.Health(ctx)
		if err != nil {
			return err
		}
		out := healthJSON{LastRecordedAt: optTime(h.LastRecordedAt), Tickers: make([]tickerJSON, len(h.Tickers)),
			Outbox: backlogs(h.Outbox), Parked: backlogs(h.Parked), Notifications: map[string]int{}}
		for i, t := range h.Tickers {
			out.Tickers[i] = tickerJSON{Ticker: t.Ticker, Subscribers: t.Subscribers, QuotedAt: optTime(t.QuotedAt),
				RecordedAt: optTime(t.RecordedAt)}
		}
		for _, st := range []stockalert.DeliveryState{stockalert.Sent, stockalert.Undeliverable, stockalert.Failed, stockalert.Sending} {
			out.Notifications[string(st)] = h.Notifications[st]
		}
		var lagErr error
		if len(c.deps.Brokers) > 0 {
			lag, err := consumerLag(ctx, c.deps.Brokers)
			if err != nil {
				lagErr = fmt.Errorf("health: consumer lag: %w", err)
				out.LagError = plainError(err, c.deps.Brokers)
			}
			out.Lag = lag
		}
		// The store part is printed either way; a broker that did not answer fails the command.
		if err := c.output(out, func(w io.Writer) { c.healthTable(w, out) }); err != nil {
			return err
		}
		return lagErr
	})
}

func (c *cmdline) healthTable(w io.Writer, h healthJSON) {
	row(w, "last quote recorded", optTimeText(h.LastRecordedAt))
	row(w)
	row(w, "TICKER", "SUBSCRIBERS", "LATEST QUOTE", "RECORDED")
	for _, t := range h.Tickers {
		row(w, t.Ticker, t.Subscribers, optTimeText(t.QuotedAt), optTimeText(t.RecordedAt))
	}
	row(w)
	row(w, "OUTBOX TOPIC", "PENDING", "PARKED", "OLDEST PENDING")
	topics := map[string][2]int{}
	oldest := map[string]time.Time{}
	for _, b := range h.Outbox {
		v := topics[b.Topic]
		v[0] = b.Rows
		topics[b.Topic] = v
		oldest[b.Topic] = b.Oldest
	}
	for _, b := range h.Parked {
		v := topics[b.Topic]
		v[1] = b.Rows
		topics[b.Topic] = v
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		o := "-"
		if at, ok := oldest[t]; ok {
			o = at.Format(time.RFC3339)
		}
		row(w, t, topics[t][0], topics[t][1], o)
	}
	row(w)
	row(w, "NOTIFICATIONS", "SENT", "UNDELIVERABLE", "FAILED", "SENDING")
	row(w, "", h.Notifications["sent"], h.Notifications["undeliverable"], h.Notifications["failed"], h.Notifications["sending"])
	if len(c.deps.Brokers) == 0 {
		row(w)
		row(w, "consumer lag", "KAFKA_BROKERS is not set")
		return
	}
	row(w)
	if h.LagError != "" {
		row(w, "consumer lag", "unknown: "+oneLine(h.LagError))
		return
	}
	row(w, "GROUP", "STATE", "TOPIC", "LAG")
	for _, l := range h.Lag {
		row(w, l.Group, l.State, l.Topic, l.Lag)
	}
}

func backlogs(bs []sqlstore.TopicBacklog) []backlogJSON {
	out := make([]backlogJSON, len(bs))
	for i, b := range bs {
		out[i] = backlogJSON{Topic: b.Topic, Rows: b.Rows, Oldest: b.Oldest}
	}
	return out
}

// consumerLag returns, for every consumer group of the cluster, the messages of each topic it has
// committed offsets on that it has not consumed yet (log end offset minus committed offset, summed
// over the partitions), by group and topic.
func consumerLag(ctx context.Context, brokers []string) ([]consumerLagJSON, error) {
	// Dial errors are not retried: a broker that is not there fails health at once.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("stockalert-admin"), kgo.RequestRetries(0))
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", brokers, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list consumer groups: %w", err)
	}
	if len(listed) == 0 {
		return []consumerLagJSON{}, nil
	}
	lags, err := adm.Lag(ctx, listed.Groups()...)
	if err != nil {
		return nil, fmt.Errorf("consumer lag: %w", err)
	}
	out := []consumerLagJSON{}
	var firstErr error
	for _, l := range lags.Sorted() {
		if e := l.Error(); e != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("consumer lag of group %s: %w", l.Group, e)
			}
			continue
		}
		for _, t := range l.Lag.TotalByTopic().Sorted() {
			out = append(out, consumerLagJSON{Group: l.Group, State: l.State, Topic: t.Topic, Lag: t.Lag})
		}
	}
	return out, firstErr
}
