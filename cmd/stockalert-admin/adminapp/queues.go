package adminapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func isNotFound(err error) bool { return errors.Is(err, stockalert.ErrNotFound) }

// dlqFlags reads the range and group flags of dlq list and redrive.
type dlqFlags struct {
	partition *int
	from, to  *int64
	group     *string
}

func (c *cmdline) dlqCommand(name string, destructive bool) (*dlqFlagsSet, error) {
	if len(c.deps.Brokers) == 0 {
		return nil, usagef("%s: KAFKA_BROKERS is not set (make run prints its broker in the status table)", name)
	}
	fs := c.flags(name, destructive)
	return &dlqFlagsSet{fs: fs, dlqFlags: dlqFlags{
		partition: fs.Int("partition", -1, "only this partition of the dead-letter topic"),
		from:      fs.Int64("from", -1, "first offset (inclusive)"),
		to:        fs.Int64("to", -1, "last offset (inclusive)"),
		group:     fs.String("group", kafkaconnector.DefaultRedriveGroup, "consumer group that records what was redriven"),
	}}, nil
}

// deadLetterJSON is one dead letter in dlq list --json.
type deadLetterJSON struct {
	Partition int       `json:"partition"`
	Offset    int64     `json:"offset"`
	Time      time.Time `json:"time"`
	Redriven  bool      `json:"redriven"`
	Topic     string    `json:"topic"`
	MessageID string    `json:"message_id"`
	Function  string    `json:"function"`
	Status    string    `json:"status"`
	Attempts  string    `json:"attempts"`
	Error     string    `json:"error"`
	Key       string    `json:"key"`
	Value     string    `json:"value"`
}

func (c *cmdline) dlqList(ctx context.Context, args []string) error {
	d, err := c.dlqCommand("dlq list", false)
	if err != nil {
		return err
	}
	pos, err := parse(d.fs, args, 1, 1)
	if err != nil {
		return err
	}
	r, err := d.rangeOf(false)
	if err != nil {
		return err
	}
	admin := kafkaconnector.NewDLQAdmin(c.deps.Brokers, *d.group)
	defer func() { _ = admin.Close() }() // read-only: the outcome is decided by then
	dls, err := admin.List(ctx, pos[0], r)
	if err != nil {
		return fmt.Errorf("dlq list: %w", err)
	}
	out := make([]deadLetterJSON, len(dls))
	for i, dl := range dls {
		out[i] = deadLetterJSON{Partition: dl.Partition, Offset: dl.Offset, Time: dl.Time.UTC(), Redriven: dl.Redriven,
			Topic: dl.Topic, MessageID: dl.MessageID, Function: dl.Function, Status: dl.Status, Attempts: dl.Attempts,
			Error: dl.Error, Key: string(dl.Key), Value: string(dl.Value)}
	}
	return c.output(out, func(w io.Writer) {
		row(w, "PARTITION", "OFFSET", "TIME", "STATE", "FUNCTION", "STATUS", "ATTEMPTS", "MESSAGE-ID", "KEY", "ERROR")
		for _, dl := range out {
			state := "dead"
			if dl.Redriven {
				state = "redriven"
			}
			row(w, dl.Partition, dl.Offset, dl.Time.Format(time.RFC3339), state, dl.Function, dl.Status, dl.Attempts,
				dl.MessageID, strconv.Quote(dl.Key), oneLine(dl.Error))
		}
	})
}

func (c *cmdline) dlqRedrive(ctx context.Context, args []string) error {
	d, err := c.dlqCommand("dlq redrive", true)
	if err != nil {
		return err
	}
	all := d.fs.Bool("all", false, "every dead letter not redriven yet")
	pos, err := parse(d.fs, args, 1, 1)
	if err != nil {
		return err
	}
	r, err := d.rangeOf(*all)
	if err != nil {
		return err
	}
	what := "re-publish every dead letter of " + pos[0] + " not redriven yet to its topic"
	if !*all {
		what = fmt.Sprintf("re-publish the dead letters of %s in partition %d, offsets %d to %d, to their topic",
			pos[0], r.Partition, r.From, r.To)
	}
	if err := c.confirm(what); err != nil {
		return err
	}
	admin := kafkaconnector.NewDLQAdmin(c.deps.Brokers, *d.group)
	defer func() { _ = admin.Close() }() // the writes were acknowledged and committed by then
	res, err := admin.Redrive(ctx, pos[0], r)
	if err != nil {
		return fmt.Errorf("dlq redrive (republished %d before the failure): %w", res.Republished, err)
	}
	return c.output(map[string]int{"republished": res.Republished, "skipped": res.Skipped}, func(w io.Writer) {
		row(w, fmt.Sprintf("republished %d, skipped %d already redriven", res.Republished, res.Skipped))
	})
}

type dlqFlagsSet struct {
	fs *flag.FlagSet
	dlqFlags
}

// rangeOf checks the range flags: redrive needs --all or a range, never both.
func (d *dlqFlagsSet) rangeOf(all bool) (kafkaconnector.DLQRange, error) {
	r := kafkaconnector.DLQRange{Partition: *d.partition, From: *d.from, To: *d.to}
	if r.From >= 0 && r.To >= 0 && r.To < r.From {
		return r, usagef("%s: --to %d is before --from %d", d.fs.Name(), r.To, r.From)
	}
	if d.fs.Name() == "dlq redrive" {
		ranged := r.From >= 0 || r.To >= 0 || r.Partition >= 0
		if all == ranged {
			return r, usagef("dlq redrive: give either --all or a range (--partition, --from, --to), not both")
		}
	}
	return r, nil
}

// parkedJSON is one parked outbox message in outbox parked --json.
type parkedJSON struct {
	ID       int64     `json:"id"`
	Topic    string    `json:"topic"`
	Key      string    `json:"key"`
	Bytes    int       `json:"bytes"`
	Reason   string    `json:"reason"`
	ParkedAt time.Time `json:"parked_at"`
}

func (c *cmdline) outboxParked(ctx context.Context, args []string) error {
	fs := c.flags("outbox parked", false)
	topic := fs.String("topic", "", "only this topic")
	limit := fs.Int("limit", 1000, "at most this many messages")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *limit <= 0 {
		return usagef("outbox parked: --limit must be positive")
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		parked, err := s.ParkedOutbox(ctx, *topic, *limit)
		if err != nil {
			return err
		}
		out := make([]parkedJSON, len(parked))
		for i, m := range parked {
			out[i] = parkedJSON{ID: m.ID, Topic: m.Topic, Key: m.Key, Bytes: len(m.Value), Reason: m.Reason, ParkedAt: m.ParkedAt}
		}
		return c.output(out, func(w io.Writer) {
			row(w, "ID", "TOPIC", "KEY", "BYTES", "PARKED", "REASON")
			for _, m := range out {
				row(w, m.ID, m.Topic, strconv.Quote(m.Key), m.Bytes, m.ParkedAt.Format(time.RFC3339), oneLine(m.Reason))
			}
		})
	})
}

// maxRequeueAll bounds the parked messages one requeue --all takes.
const maxRequeueAll = 100000

func (c *cmdline) outboxRequeue(ctx context.Context, args []string) error {
	fs := c.flags("outbox requeue", true)
	all := fs.Bool("all", false, "every parked message (of --topic, when given)")
	topic := fs.String("topic", "", "with --all: only this topic")
	pos, err := parse(fs, args, 0, -1)
	if err != nil {
		return err
	}
	if *all == (len(pos) > 0) {
		return usagef("outbox requeue: give either parked message ids or --all, not both")
	}
	if *topic != "" && !*all {
		return usagef("outbox requeue: --topic goes with --all")
	}
	ids := make([]int64, 0, len(pos))
	for _, p := range pos {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return usagef("outbox requeue: %q is not a parked message id (see outbox parked)", p)
		}
		ids = append(ids, id)
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		if *all {
			parked, err := s.ParkedOutbox(ctx, *topic, maxRequeueAll)
			if err != nil {
				return err
			}
			for _, m := range parked {
				ids = append(ids, m.ID)
			}
			if len(ids) == 0 {
				return c.output(map[string]int{"requeued": 0}, func(w io.Writer) { row(w, "no parked messages") })
			}
		}
		if err := c.confirm(fmt.Sprintf("queue %d parked messages again at the end of their topics' queues", len(ids))); err != nil {
			return err
		}
		n, err := s.RequeueParked(ctx, ids...)
		if err != nil {
			return err
		}
		err = c.output(map[string]int{"requeued": n}, func(w io.Writer) {
			row(w, fmt.Sprintf("requeued %d parked messages; the next relay of their topic publishes them", n))
		})
		if err == nil && n < len(ids) {
			err = fmt.Errorf("%d of the %d ids were not parked (requeued before, or never parked; see outbox parked)", len(ids)-n, len(ids))
		}
		return err
	})
}
