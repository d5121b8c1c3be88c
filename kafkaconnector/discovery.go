package kafkaconnector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openfaas/faas-provider/types"
)

// TopicAnnotation is the function annotation that subscribes a function to topics: "topic: a,b".
const TopicAnnotation = "topic"

// Secret files holding the gateway's basic-auth credentials, as every OpenFaaS component reads them.
const (
	BasicAuthUserFile     = "basic-auth-user"
	BasicAuthPasswordFile = "basic-auth-password" //nolint:gosec // G101: a file name, not a credential
)

// discoveryTimeout bounds one refresh of the function list.
const discoveryTimeout = 30 * time.Second

// Function is an OpenFaaS function the connector invokes.
type Function struct {
	Name      string
	Namespace string
}

// String returns the name the gateway routes by: name.namespace, or name when there is no namespace.
func (f Function) String() string {
	if f.Namespace == "" {
		return f.Name
	}
	return f.Name + "." + f.Namespace
}

// gateway is the OpenFaaS gateway: its address, the HTTP client and the credentials for /system.
type gateway struct {
	base   *url.URL
	client *http.Client
	creds  *credentials
}

type credentials struct{ user, password string }

// readCredentials reads the basic-auth user and password files in dir.
func readCredentials(dir string) (*credentials, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name)) //nolint:gosec // G304: secret_mount_path and a fixed file name, as OpenFaaS mounts them
		if err != nil {
			return "", fmt.Errorf("read gateway credentials (basic_auth=true, secret_mount_path=%s): %w", dir, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	user, err := read(BasicAuthUserFile)
	if err != nil {
		return nil, err
	}
	password, err := read(BasicAuthPasswordFile)
	if err != nil {
		return nil, err
	}
	return &credentials{user: user, password: password}, nil
}

func (g *gateway) url(path string, query url.Values) string {
	u := *g.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	return u.String()
}

// getJSON decodes the answer to GET path into v. A 404 wraps errNotFound.
func (g *gateway) getJSON(ctx context.Context, path string, query url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url(path, query), nil)
	if err != nil {
		return err
	}
	if g.creds != nil {
		req.SetBasicAuth(g.creds.user, g.creds.password)
	}
	resp, err := g.client.Do(req) //nolint:bodyclose // closed by closeBody below, which drains it first
	if err != nil {
		return err
	}
	defer closeBody(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("gateway answered %s: check basic_auth and the credential files", resp.Status)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("gateway answered %s: %s", resp.Status, readSnippet(resp.Body))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

var errNotFound = errors.New("not found")

// routes maps a topic to the functions subscribed to it, sorted by name.
type routes map[string][]Function

// discovery keeps the topic → functions map, read from the gateway every rebuild interval.
type discovery struct {
	gw      *gateway
	topics  map[string]bool // the topics this connector consumes
	log     *slog.Logger
	metrics *metrics
	current atomic.Pointer[routes]

	recheck     sync.Mutex
	rechecked   time.Time // when SubscribersNow last read the gateway
	recheckEach time.Duration
}

func newDiscovery(gw *gateway, topics []string, log *slog.Logger, m *metrics) *discovery {
	d := &discovery{gw: gw, topics: map[string]bool{}, log: log, metrics: m, recheckEach: time.Second}
	for _, t := range topics {
		d.topics[t] = true
	}
	return d
}

// Subscribers returns the functions subscribed to topic as of the last successful refresh. The
// slice must not be modified.
func (d *discovery) Subscribers(topic string) []Function {
	if r := d.current.Load(); r != nil {
		return (*r)[topic]
	}
	return nil
}

// SubscribersNow is Subscribers for a message about to be skipped for want of a subscriber: unless the
// gateway was read in the last second, it reads it first, so that a function deployed since the last
// refresh (a fresh deployment whose connector started first) gets the message instead of losing it.
// A failed read leaves the last known map.
func (d *discovery) SubscribersNow(ctx context.Context, topic string) []Function {
	if fns := d.Subscribers(topic); len(fns) > 0 {
		return fns
	}
	d.recheck.Lock()
	defer d.recheck.Unlock()
	if time.Since(d.rechecked) >= d.recheckEach {
		d.rechecked = time.Now()
		if err := d.refresh(ctx); err != nil {
			d.log.Warn("read the function list before skipping a message", "topic", topic, "err", err)
		}
	}
	return d.Subscribers(topic)
}

// refresh reads every namespace's functions and replaces the map. On error the previous map stays.
func (d *discovery) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	fns, err := d.list(ctx)
	if err != nil {
		d.metrics.discoveryErrors.Inc()
		return err
	}
	next := routes{}
	for _, fn := range fns {
		if fn.Annotations == nil {
			continue
		}
		for _, t := range strings.Split((*fn.Annotations)[TopicAnnotation], ",") {
			t = strings.TrimSpace(t)
			if !d.topics[t] {
				continue
			}
			next[t] = append(next[t], Function{Name: fn.Name, Namespace: fn.Namespace})
		}
	}
	for t, fs := range next {
		slices.SortFunc(fs, func(a, b Function) int { return strings.Compare(a.String(), b.String()) })
		next[t] = slices.Compact(fs)
	}
	for t := range d.topics {
		d.metrics.subscribed.WithLabelValues(t).Set(float64(len(next[t])))
	}
	prev := d.current.Swap(&next)
	if prev == nil || !maps.EqualFunc(*prev, next, slices.Equal) {
		for _, t := range slices.Sorted(maps.Keys(d.topics)) {
			names := make([]string, len(next[t]))
			for i, f := range next[t] {
				names[i] = f.String()
			}
			d.log.Info("subscriptions", "topic", t, "functions", names)
		}
	}
	return nil
}

// list returns every function of every namespace. A gateway without namespaces (404 or an empty
// list) is asked for its functions without a namespace.
func (d *discovery) list(ctx context.Context) ([]types.FunctionStatus, error) {
	var namespaces []string
	err := d.gw.getJSON(ctx, "/system/namespaces", nil, &namespaces)
	if err != nil && !errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	if len(namespaces) == 0 {
		namespaces = []string{""}
	}
	var all []types.FunctionStatus
	for _, ns := range namespaces {
		var q url.Values
		if ns != "" {
			q = url.Values{"namespace": {ns}}
		}
		var fns []types.FunctionStatus
		if err := d.gw.getJSON(ctx, "/system/functions", q, &fns); err != nil {
			return nil, fmt.Errorf("list functions in namespace %q: %w", ns, err)
		}
		for i := range fns {
			if fns[i].Namespace == "" {
				fns[i].Namespace = ns
			}
		}
		all = append(all, fns...)
	}
	return all, nil
}

// run refreshes every interval until ctx is done, logging failures and keeping the last good map.
func (d *discovery) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.refresh(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("refresh function list; keeping the previous one", "err", err)
			}
		}
	}
}
