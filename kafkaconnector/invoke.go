package kafkaconnector

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
)

// ConnectorName is sent as X-Connector on every invocation.
const ConnectorName = "kafka-connector"

// Invocation headers. Message headers arrive as X-Kafka-<Name>, except names that would collide with
// the headers below, which are dropped.
const (
	HeaderTopic     = "X-Topic"
	HeaderConnector = "X-Connector"
	HeaderPartition = "X-Kafka-Partition"
	HeaderOffset    = "X-Kafka-Offset"
	HeaderKey       = "X-Kafka-Key"
	HeaderKeyEnc    = "X-Kafka-Key-Enc"
	HeaderMessageID = "X-Message-Id"
)

// MessageID is the stable identity of a message, sent as X-Message-Id: topic/partition/offset.
func MessageID(m kafka.Message) string {
	return m.Topic + "/" + strconv.Itoa(m.Partition) + "/" + strconv.FormatInt(m.Offset, 10)
}

// invoker calls functions through the gateway: POST /function/<name>.<namespace>.
type invoker struct {
	gw          *gateway
	contentType string
	timeout     time.Duration // per attempt
}

// Invoke makes one attempt to deliver m to fn. It returns the HTTP status (0 without an answer) and a
// nil error for 2xx, else an *invocationError saying whether another attempt may succeed. When ctx
// ends first, the error wraps ctx's error.
func (i *invoker) Invoke(ctx context.Context, fn Function, m kafka.Message) (int, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, i.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(attemptCtx, http.MethodPost, i.gw.url("/function/"+fn.String(), nil), bytes.NewReader(m.Value))
	if err != nil {
		return 0, &invocationError{Err: err} // a malformed gateway URL cannot get better
	}
	setInvocationHeaders(req.Header, m)
	req.Header.Set("Content-Type", i.contentType)
	resp, err := i.gw.client.Do(req) //nolint:bodyclose // closed by closeBody below, which drains it first
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return 0, fmt.Errorf("invoke %s: %w", fn, context.Cause(ctx))
		case errors.Is(err, context.DeadlineExceeded):
			return 0, &invocationError{Timeout: true, Err: fmt.Errorf("no answer within upstream_timeout %s", i.timeout), retryable: true}
		default:
			return 0, &invocationError{Err: err, retryable: true}
		}
	}
	defer closeBody(resp.Body)
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, nil
	}
	e := &invocationError{Status: resp.StatusCode, Body: readSnippet(resp.Body)}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		e.retryable = true
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp.StatusCode, e
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as a wait
// from now; zero when absent, unreadable or in the past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// maxRetryAfter bounds a Retry-After read, so that no value overflows; the retry window decides
// what is waited for.
const maxRetryAfter = 365 * 24 * time.Hour

// invocationError is a failed attempt: a non-2xx answer, a timeout or a connection error.
type invocationError struct {
	Status     int           // HTTP status; 0 when there was no answer
	Body       string        // start of the answer's body
	Timeout    bool          // no answer within upstream_timeout
	RetryAfter time.Duration // the function's Retry-After on a 429 or 503, if any
	Err        error         // the transport error when there was no answer
	retryable  bool
}

func (e *invocationError) Error() string {
	if e.Status == 0 {
		return e.Err.Error()
	}
	if e.Body == "" {
		return fmt.Sprintf("function answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("function answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}

func (e *invocationError) Unwrap() error { return e.Err }

// Retryable reports whether another attempt may succeed: 5xx, 408, 429, timeouts and connection
// errors. Other answers (4xx, 3xx) are final.
func (e *invocationError) Retryable() bool { return e.retryable }

// setInvocationHeaders sets the OpenFaaS connector headers for m on h.
func setInvocationHeaders(h http.Header, m kafka.Message) {
	for _, mh := range m.Headers {
		name, ok := headerName(mh.Key)
		if !ok || !validHeaderValue(mh.Value) {
			continue
		}
		h.Add(name, string(mh.Value))
	}
	h.Set(HeaderTopic, m.Topic)
	h.Set(HeaderConnector, ConnectorName)
	h.Set(HeaderPartition, strconv.Itoa(m.Partition))
	h.Set(HeaderOffset, strconv.FormatInt(m.Offset, 10))
	h.Set(HeaderMessageID, MessageID(m))
	switch {
	case len(m.Key) == 0:
	case utf8.Valid(m.Key) && validHeaderValue(m.Key):
		h.Set(HeaderKey, string(m.Key))
	default:
		h.Set(HeaderKey, base64.StdEncoding.EncodeToString(m.Key))
		h.Set(HeaderKeyEnc, "b64")
	}
}

var reservedHeaders = map[string]bool{
	HeaderPartition: true, HeaderOffset: true, HeaderKey: true, HeaderKeyEnc: true,
}

// headerName maps a Kafka header key to X-Kafka-<Key>, or reports false when the key is not a valid
// HTTP header name or would overwrite one of the connector's headers.
func headerName(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	for i := 0; i < len(key); i++ {
		if !isTokenChar(key[i]) {
			return "", false
		}
	}
	name := textproto.CanonicalMIMEHeaderKey("X-Kafka-" + key)
	return name, !reservedHeaders[name]
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validHeaderValue reports whether v can be sent as an HTTP header value (no control characters
// other than tab, no leading or trailing white space that would be lost).
func validHeaderValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(v) == 0 || (v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t')
}

// readSnippet returns the start of an error answer's body for a message, or what kept it from
// being read.
func readSnippet(body io.Reader) string {
	b, err := io.ReadAll(io.LimitReader(body, 512))
	if err != nil {
		return fmt.Sprintf("%s(body unreadable: %v)", b, err)
	}
	return strings.TrimSpace(string(b))
}

// closeBody drains a bounded amount of an answer's body, so that its connection is reused, and
// closes it. Their errors cannot change the outcome, which the status already decided: a body that
// cannot be drained or closed only costs its connection, which the transport then drops.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
