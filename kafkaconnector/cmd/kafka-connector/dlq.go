package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stockalert/stockalert/kafkaconnector"
)

const dlqUsage = `usage:
  kafka-connector dlq list    -topic T [-partition P] [-from O] [-to O] [-brokers B] [-group G]
  kafka-connector dlq redrive -topic T (-all | [-partition P] -from O -to O) [-brokers B] [-group G]

T is a consumed topic or its dead-letter topic (T.dlq). list prints each dead letter: where it is,
whether the redrive group has passed it, the function, its last status, attempts, the message id,
the key and the error. redrive re-publishes the selected dead letters the group has not passed yet to
the topic each came from, with the original key and headers (minus dlq-*), then commits the group's
offset past them: running it again publishes nothing twice. Offsets are inclusive, per partition.
B defaults to broker_hosts, else KAFKA_BROKERS; G to ` + kafkaconnector.DefaultRedriveGroup + `.
`

// runDLQ runs the dlq subcommand with args (after "dlq"); getenv reads the environment.
func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "redrive") {
		_, _ = io.WriteString(stderr, dlqUsage)
		return errors.New("dlq: want list or redrive")
	}
	verb := args[0]
	fs := flag.NewFlagSet("dlq "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { _, _ = io.WriteString(stderr, dlqUsage) }
	topic := fs.String("topic", "", "topic (or its dead-letter topic)")
	brokers := fs.String("brokers", "", "Kafka bootstrap brokers, host:port, comma-separated")
	group := fs.String("group", kafkaconnector.DefaultRedriveGroup, "consumer group that records what was redriven")
	partition := fs.Int("partition", -1, "only this partition of the dead-letter topic")
	from := fs.Int64("from", -1, "first offset (inclusive)")
	to := fs.Int64("to", -1, "last offset (inclusive)")
	all := fs.Bool("all", false, "redrive: every dead letter not redriven yet")
	timeout := fs.Duration("timeout", time.Minute, "bound of the whole command")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("dlq %s: %w", verb, err)
	}
	var problems []string
	if *topic == "" {
		problems = append(problems, "-topic is required")
	}
	if *brokers == "" {
		*brokers = getenv("broker_hosts")
	}
	if *brokers == "" {
		*brokers = getenv("KAFKA_BROKERS")
	}
	if *brokers == "" {
		problems = append(problems, "-brokers is required (or broker_hosts / KAFKA_BROKERS; make run prints its broker in the status table)")
	}
	if *from >= 0 && *to >= 0 && *to < *from {
		problems = append(problems, fmt.Sprintf("-to %d is before -from %d", *to, *from))
	}
	ranged := *from >= 0 || *to >= 0 || *partition >= 0
	if verb == "redrive" && *all == ranged {
		problems = append(problems, "redrive needs either -all or a range (-from/-to, -partition), not both")
	}
	if verb == "list" && *all {
		problems = append(problems, "-all is for redrive (list shows everything unless a range is given)")
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if len(problems) > 0 {
		_, _ = io.WriteString(stderr, dlqUsage)
		return fmt.Errorf("dlq %s: %s", verb, strings.Join(problems, "; "))
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	admin := kafkaconnector.NewDLQAdmin(strings.Split(*brokers, ","), *group)
	defer func() { _ = admin.Close() }() // the command's outcome is decided by then
	r := kafkaconnector.DLQRange{Partition: *partition, From: *from, To: *to}

	if verb == "redrive" {
		res, err := admin.Redrive(ctx, *topic, r)
		_, _ = fmt.Fprintf(stdout, "republished %d, skipped %d already redriven\n", res.Republished, res.Skipped)
		if err != nil {
			return fmt.Errorf("dlq redrive: %w", err)
		}
		return nil
	}
	dls, err := admin.List(ctx, *topic, r)
	if err != nil {
		return fmt.Errorf("dlq list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "PARTITION\tOFFSET\tTIME\tSTATE\tFUNCTION\tSTATUS\tATTEMPTS\tMESSAGE-ID\tKEY\tERROR")
	for _, d := range dls {
		state := "dead"
		if d.Redriven {
			state = "redriven"
		}
		_, _ = fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Partition, d.Offset,
			d.Time.UTC().Format(time.RFC3339), state, d.Function, d.Status, d.Attempts, d.MessageID,
			strconv.Quote(string(d.Key)), oneLine(d.Error))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("dlq list: write: %w", err)
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
