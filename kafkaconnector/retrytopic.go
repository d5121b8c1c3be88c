package kafkaconnector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// RetrySuffix names a topic's retry topic: <topic>.retry. A message whose delivery to a function
// failed for a reason that may pass (5xx, 408, 429, timeout, connection error) and was not cured by
// the short retries in place is parked there, with the headers below, and the source partition moves
// on; the connector consumes the retry topics too and invokes the function again once the message is
// due.
const RetrySuffix = ".retry"

// RetryTopic returns the retry topic of topic.
func RetryTopic(topic string) string { return topic + RetrySuffix }

// Headers of a parked message. Its key, value and own headers are kept (except retry-* headers from
// an earlier trip, which these replace).
const (
	RetryHeaderFunction  = "retry-function"   // the function to invoke again: name.namespace
	RetryHeaderNotBefore = "retry-not-before" // Unix milliseconds before which it is not invoked
	RetryHeaderSince     = "retry-since"      // Unix milliseconds of the first failed attempt
	RetryHeaderAttempts  = "retry-attempts"   // attempts made so far
	RetryHeaderStatus    = "retry-status"     // the last HTTP status; 0 when there was no answer
	RetryHeaderError     = "retry-error"      // the last error, at most 1 KiB
	RetryHeaderTopic     = "retry-topic"      // where the message came from
	RetryHeaderPartition = "retry-partition"  //
	RetryHeaderOffset    = "retry-offset"     //
)

// parking writes messages to the retry topics and decides when they are due.
type parking struct {
	w       *kafka.Writer
	write   retryPolicy // of the write itself: until it succeeds
	backoff retryPolicy // initial and max: the waits between attempts
	window  time.Duration
	metrics *metrics
	log     *slog.Logger
}

// retryState is where a message stands in its retries for one function.
type retryState struct {
	since    time.Time // first failed attempt
	attempts int
}

// wait returns how long to wait after the attempts so far: the function's Retry-After if it gave
// one, else exponential backoff from the initial interval, doubling per attempt, randomised by ±50%,
// at most the max interval.
func (p *parking) wait(attempts int, err error) time.Duration {
	var ie *invocationError
	if errors.As(err, &ie) && ie.RetryAfter > 0 {
		return ie.RetryAfter
	}
	d := p.backoff.initial
	for i := 1; i < attempts && d < p.backoff.max; i++ {
		d *= 2
	}
	d = time.Duration(float64(d) * (0.5 + rand.Float64())) //nolint:gosec // G404: jitter, not a secret
	return min(d, p.backoff.max)
}

// park writes m (the original message) to its retry topic for fn, due after wait, or to its
// dead-letter topic when the retry window would be over by then. The write is retried until it
// succeeds or ctx ends, like a dead letter's: only then may the source offset move on.
func (p *parking) park(ctx context.Context, fn Function, m kafka.Message, st retryState, err error, dl deadLetterer) error {
	now := time.Now()
	wait := p.wait(st.attempts, err)
	due := now.Add(wait)
	f := failure{Function: fn, Attempts: st.attempts, Err: err}
	var ie *invocationError
	if errors.As(err, &ie) {
		f.Status = ie.Status
	}
	if end := st.since.Add(p.window); due.After(end) {
		f.Err = fmt.Errorf("%w (retried for %s; the next attempt, in %s, would fall after the retry_window of %s)",
			err, now.Sub(st.since).Round(time.Millisecond), wait.Round(time.Millisecond), p.window)
		p.log.Warn("retry window over; writing the message to the dead-letter topic", "function", fn.String(),
			"message_id", MessageID(m), "status", f.Status, "attempts", st.attempts, "err", err)
		return dl.Publish(ctx, m, f)
	}
	parked := parkedMessage(m, f, st.since, due)
	_, werr := p.write.do(ctx, func() error {
		if err := p.w.WriteMessages(ctx, parked); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return transient{err}
		}
		return nil
	}, func(err error, wait time.Duration) {
		p.log.Error("write to retry topic failed; retrying (the partition waits)", "topic", parked.Topic,
			"message_id", MessageID(m), "err", err, "wait", wait)
	})
	if werr != nil {
		return fmt.Errorf("park %s in %s: %w", MessageID(m), parked.Topic, werr)
	}
	p.metrics.parked.WithLabelValues(m.Topic, fn.String()).Inc()
	p.log.Info("delivery failed; parked in the retry topic, the partition moves on", "function", fn.String(),
		"message_id", MessageID(m), "status", f.Status, "attempts", st.attempts, "due_in", wait.Round(time.Millisecond), "err", err)
	return nil
}

func parkedMessage(m kafka.Message, f failure, since, due time.Time) kafka.Message {
	headers := make([]kafka.Header, 0, len(m.Headers)+9)
	for _, h := range m.Headers {
		if !strings.HasPrefix(h.Key, "retry-") {
			headers = append(headers, h)
		}
	}
	add := func(k, v string) { headers = append(headers, kafka.Header{Key: k, Value: []byte(v)}) }
	add(RetryHeaderFunction, f.Function.String())
	// Rounded up to the millisecond: never before the wait has passed.
	add(RetryHeaderNotBefore, strconv.FormatInt(due.Add(time.Millisecond-1).UnixMilli(), 10))
	add(RetryHeaderSince, strconv.FormatInt(since.UnixMilli(), 10))
	add(RetryHeaderAttempts, strconv.Itoa(f.Attempts))
	add(RetryHeaderStatus, strconv.Itoa(f.Status))
	add(RetryHeaderError, errorText(f.Err))
	add(RetryHeaderTopic, m.Topic)
	add(RetryHeaderPartition, strconv.Itoa(m.Partition))
	add(RetryHeaderOffset, strconv.FormatInt(m.Offset, 10))
	return kafka.Message{Topic: RetryTopic(m.Topic), Key: m.Key, Value: m.Value, Headers: headers}
}

// parkedEntry is a message read back from a retry topic.
type parkedEntry struct {
	fn        Function
	notBefore time.Time
	state     retryState
	original  kafka.Message // as it was in its source topic: topic, partition, offset, key, value, headers
}

// unpark reads the retry-* headers of m, a message of a retry topic.
func unpark(m kafka.Message) (parkedEntry, error) {
	h := map[string]string{}
	orig := kafka.Message{Key: m.Key, Value: m.Value, Time: m.Time}
	for _, x := range m.Headers {
		if strings.HasPrefix(x.Key, "retry-") {
			h[x.Key] = string(x.Value)
		} else {
			orig.Headers = append(orig.Headers, x)
		}
	}
	var errs []error
	num := func(k string) int64 {
		n, err := strconv.ParseInt(h[k], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: %q is not a number", k, h[k]))
		}
		return n
	}
	e := parkedEntry{
		notBefore: time.UnixMilli(num(RetryHeaderNotBefore)),
		state:     retryState{since: time.UnixMilli(num(RetryHeaderSince)), attempts: int(num(RetryHeaderAttempts))},
	}
	orig.Partition, orig.Offset = int(num(RetryHeaderPartition)), num(RetryHeaderOffset)
	orig.Topic = h[RetryHeaderTopic]
	if orig.Topic == "" {
		errs = append(errs, fmt.Errorf("header %s is missing", RetryHeaderTopic))
	}
	name, ns, _ := strings.Cut(h[RetryHeaderFunction], ".")
	if name == "" {
		errs = append(errs, fmt.Errorf("header %s is missing", RetryHeaderFunction))
	}
	e.fn, e.original = Function{Name: name, Namespace: ns}, orig
	if len(errs) > 0 {
		return parkedEntry{}, fmt.Errorf("parked message %s: %w", MessageID(m), errors.Join(errs...))
	}
	return e, nil
}

// errorText is err's text cut to 1 KiB, for a header.
func errorText(err error) string {
	text := err.Error()
	if len(text) > 1024 {
		text = strings.ToValidUTF8(text[:1024], "")
	}
	return text
}
