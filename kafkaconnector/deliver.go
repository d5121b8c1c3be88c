package kafkaconnector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// functionInvoker makes one attempt to deliver a message to a function; see invoker.Invoke.
type functionInvoker interface {
	Invoke(ctx context.Context, fn Function, m kafka.Message) (status int, err error)
}

// instrumentedInvoker records every attempt's outcome and duration.
type instrumentedInvoker struct {
	next    functionInvoker
	metrics *metrics
}

func (i instrumentedInvoker) Invoke(ctx context.Context, fn Function, m kafka.Message) (int, error) {
	start := time.Now()
	status, err := i.next.Invoke(ctx, fn, m)
	name := fn.String()
	i.metrics.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	var ie *invocationError
	label := "error"
	switch {
	case status > 0:
		label = strconv.Itoa(status)
	case errors.As(err, &ie) && ie.Timeout:
		label = "timeout"
	case ctx.Err() != nil:
		label = "canceled"
	}
	i.metrics.invocations.WithLabelValues(name, label).Inc()
	return status, err
}

// subscriptions answers which functions a topic's messages go to.
type subscriptions interface {
	Subscribers(topic string) []Function
	// SubscribersNow checks with the gateway before answering none.
	SubscribersNow(ctx context.Context, topic string) []Function
}

// deadLetterer writes a message that a function refused for good to the dead-letter topic.
type deadLetterer interface {
	Publish(ctx context.Context, m kafka.Message, f failure) error
}

// delivery hands each message to every function subscribed to its topic, retrying each function on
// its own, and dead-letters the message for the functions that fail for good.
type delivery struct {
	routes      subscriptions
	invoker     functionInvoker
	deadLetters deadLetterer
	retry       retryPolicy // in place, before parking
	parking     *parking
	retryTopics map[string]bool
	metrics     *metrics
	log         *slog.Logger

	mu       sync.Mutex
	warnedAt map[string]time.Time // topic → last "no subscriber" warning
}

// handle returns nil once every subscriber has answered 2xx for m or m was written to the dead-letter
// topic for it; a function that succeeded is not invoked again while another is retried. A message
// whose topic has no subscriber, even after asking the gateway again, is logged and counts as handled. handle returns an error only when ctx
// ended first: m is then unfinished and must not be committed.
func (d *delivery) handle(ctx context.Context, m kafka.Message) error {
	fns := d.routes.Subscribers(m.Topic)
	switch len(fns) {
	case 0:
		if fns = d.routes.SubscribersNow(ctx, m.Topic); len(fns) == 0 {
			d.skip(m)
			return nil
		}
		if len(fns) == 1 {
			return d.deliver(ctx, fns[0], m)
		}
	case 1:
		return d.deliver(ctx, fns[0], m)
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = d.deliver(ctx, fn, m) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *delivery) deliver(ctx context.Context, fn Function, m kafka.Message) error {
	since := time.Now()
	attempts, err := d.retry.do(ctx, func() error {
		_, err := d.invoker.Invoke(ctx, fn, m)
		return err
	}, func(err error, wait time.Duration) {
		d.metrics.retries.WithLabelValues(fn.String()).Inc()
		d.log.Debug("invocation failed; retrying", "function", fn.String(), "message_id", MessageID(m),
			"err", err, "wait", wait)
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("deliver %s to %s: abandoned: %w", MessageID(m), fn, context.Cause(ctx))
	}
	if isRetryable(err) {
		return d.parking.park(ctx, fn, m, retryState{since: since, attempts: attempts}, err, d.deadLetters)
	}
	return d.deadLetter(ctx, fn, m, attempts, err)
}

func (d *delivery) deadLetter(ctx context.Context, fn Function, m kafka.Message, attempts int, err error) error {
	f := failure{Function: fn, Attempts: attempts, Err: err}
	var ie *invocationError
	if errors.As(err, &ie) {
		f.Status = ie.Status
	}
	d.log.Warn("delivery failed for good; writing the message to the dead-letter topic", "function", fn.String(),
		"message_id", MessageID(m), "status", f.Status, "attempts", attempts, "err", err)
	return d.deadLetters.Publish(ctx, m, f)
}

func isRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r) && r.Retryable()
}

// isParked reports whether topic is one of the retry topics, whose messages go to handleParked.
func (d *delivery) isParked(topic string) bool { return d.retryTopics[topic] }

// handleParked delivers m, a message of a retry topic, to the function it was parked for, once it is
// due: it waits until its not-before time (or until waitCtx ends), makes one attempt, and parks it
// again after a retryable failure (or dead-letters it when the retry window is over), or
// dead-letters it after a final one. It returns an error only when waitCtx or ctx ended first: m is
// then unfinished. A parked message whose retry-* headers cannot be read is logged and skipped.
func (d *delivery) handleParked(waitCtx, ctx context.Context, m kafka.Message) error {
	e, err := unpark(m)
	if err != nil {
		d.log.Error("parked message unreadable; skipped", "message_id", MessageID(m), "err", err)
		return nil
	}
	if wait := time.Until(e.notBefore); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-waitCtx.Done():
			t.Stop()
			return fmt.Errorf("parked %s: not due before %s: %w", MessageID(e.original), e.notBefore.Format(time.RFC3339Nano), context.Cause(waitCtx))
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("parked %s: %w", MessageID(e.original), context.Cause(ctx))
		case <-t.C:
		}
	}
	_, err = d.invoker.Invoke(ctx, e.fn, e.original)
	st := e.state
	st.attempts++
	switch {
	case err == nil:
		d.log.Info("parked message delivered", "function", e.fn.String(), "message_id", MessageID(e.original),
			"attempts", st.attempts, "after", time.Since(st.since).Round(time.Millisecond))
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("deliver parked %s to %s: abandoned: %w", MessageID(e.original), e.fn, context.Cause(ctx))
	case isRetryable(err):
		d.metrics.retries.WithLabelValues(e.fn.String()).Inc()
		return d.parking.park(ctx, e.fn, e.original, st, err, d.deadLetters)
	}
	return d.deadLetter(ctx, e.fn, e.original, st.attempts, err)
}

// unroutedWarnEvery limits the "no subscriber" warning to one per topic per period.
const unroutedWarnEvery = time.Minute

func (d *delivery) skip(m kafka.Message) {
	d.metrics.unrouted.WithLabelValues(m.Topic).Inc()
	d.mu.Lock()
	last, now := d.warnedAt[m.Topic], time.Now()
	warn := now.Sub(last) >= unroutedWarnEvery
	if warn {
		d.warnedAt[m.Topic] = now
	}
	d.mu.Unlock()
	if warn {
		d.log.Warn("no function subscribes to the topic; skipping its messages (counted in kafka_connector_unrouted_messages_total)",
			"topic", m.Topic, "message_id", MessageID(m), "annotation", TopicAnnotation+": "+m.Topic)
	}
}
