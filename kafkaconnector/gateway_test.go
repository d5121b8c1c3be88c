package kafkaconnector_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
)

const (
	namespace    = "openfaas-fn"
	gatewayUser  = "admin"
	gatewayPass  = "s3cret"
	invokePrefix = "/function/"
)

// invocation is one request a function received through the fake gateway.
type invocation struct {
	Function  string // name.namespace
	MessageID string
	Topic     string
	Partition int
	Offset    int64
	Header    http.Header
	Body      []byte
	Attempt   int         // 1 for the first invocation of this message by this function
	Status    int         // what the function answered; 0 when the caller gave up first
	At        time.Time   // when the request arrived
	Done      time.Time   // when the function answered
	Reply     http.Header // headers a behaviour adds to its answer
}

// behaviour decides a function's answer; it may block (honouring r.Context()).
type behaviour func(r *http.Request, inv invocation) int

// fakeGateway is an OpenFaaS gateway on loopback: it lists functions (behind basic auth, like the
// real one), records invocations, and checks that no message of a partition reaches a function
// before the previous message of that partition was answered.
type fakeGateway struct {
	URL       string
	SecretDir string

	mu          sync.Mutex
	annotations map[string]string // function name → topic annotation
	behaviours  map[string]behaviour
	invocations []invocation
	attempts    map[string]int // function + message id → invocations so far
	answered    map[string]bool
	lowest      map[string]int64 // function/topic/partition → lowest offset seen
	inflight    map[string]int   // function/topic/partition → requests being handled
	violations  []string
	concurrency []string
	lists       int // answered GET /system/functions
}

func newFakeGateway(t testing.TB) *fakeGateway {
	g := &fakeGateway{
		SecretDir:   t.TempDir(),
		annotations: map[string]string{},
		behaviours:  map[string]behaviour{},
		attempts:    map[string]int{},
		answered:    map[string]bool{},
		lowest:      map[string]int64{},
		inflight:    map[string]int{},
	}
	for name, v := range map[string]string{"basic-auth-user": gatewayUser, "basic-auth-password": gatewayPass + "\n"} {
		if err := os.WriteFile(filepath.Join(g.SecretDir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(g.serveHTTP))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// deploy adds or updates a function with the given topic annotation ("" for none).
func (g *fakeGateway) deploy(name, topics string, b behaviour) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.annotations[name] = topics
	if b != nil {
		g.behaviours[name] = b
	}
}

func (g *fakeGateway) listCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lists
}

func (g *fakeGateway) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/system/") {
		if u, p, ok := r.BasicAuth(); !ok || u != gatewayUser || p != gatewayPass {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/system/namespaces":
		_ = json.NewEncoder(w).Encode([]string{namespace})
	case r.Method == http.MethodGet && r.URL.Path == "/system/functions":
		if r.URL.Query().Get("namespace") != namespace {
			_ = json.NewEncoder(w).Encode([]types.FunctionStatus{})
			return
		}
		g.mu.Lock()
		var fns []types.FunctionStatus
		for name, topics := range g.annotations {
			ann := map[string]string{"com.openfaas.scale.min": "1"}
			if topics != "" {
				ann["topic"] = topics
			}
			fns = append(fns, types.FunctionStatus{Name: name, Namespace: namespace, Image: "fn/" + name, Annotations: &ann, Replicas: 1})
		}
		g.lists++
		g.mu.Unlock()
		_ = json.NewEncoder(w).Encode(fns)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, invokePrefix):
		g.invoke(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *fakeGateway) invoke(w http.ResponseWriter, r *http.Request) {
	fn := strings.TrimPrefix(r.URL.Path, invokePrefix)
	name, ns, _ := strings.Cut(fn, ".")
	body, _ := io.ReadAll(r.Body)
	partition, _ := strconv.Atoi(r.Header.Get("X-Kafka-Partition"))
	offset, _ := strconv.ParseInt(r.Header.Get("X-Kafka-Offset"), 10, 64)
	inv := invocation{Function: fn, MessageID: r.Header.Get("X-Message-Id"), Topic: r.Header.Get("X-Topic"),
		Partition: partition, Offset: offset, Header: r.Header.Clone(), Body: body, At: time.Now(), Reply: http.Header{}}
	stream := fmt.Sprintf("%s/%s/%d", fn, inv.Topic, partition)

	g.mu.Lock()
	_, known := g.annotations[name]
	b := g.behaviours[name]
	g.attempts[fn+"|"+inv.MessageID]++
	inv.Attempt = g.attempts[fn+"|"+inv.MessageID]
	low, seen := g.lowest[stream]
	if !seen || offset < low {
		g.lowest[stream] = offset
	}
	if inv.Attempt == 1 && seen && offset > low && !g.answered[fmt.Sprintf("%s/%d", stream, offset-1)] {
		g.violations = append(g.violations, fmt.Sprintf("%s offset %d invoked before offset %d was answered", stream, offset, offset-1))
	}
	g.inflight[stream]++
	if g.inflight[stream] > 1 {
		g.concurrency = append(g.concurrency, fmt.Sprintf("%s: %d invocations at once (offset %d)", stream, g.inflight[stream], offset))
	}
	g.mu.Unlock()

	status := http.StatusNotFound
	if known && ns == namespace {
		status = http.StatusOK
		if b != nil {
			status = b(r, inv)
		}
	}
	if r.Context().Err() != nil {
		status = 0 // the connector gave up waiting
	}

	g.mu.Lock()
	inv.Status, inv.Done = status, time.Now()
	g.invocations = append(g.invocations, inv)
	g.answered[fmt.Sprintf("%s/%d", stream, offset)] = true
	g.inflight[stream]--
	g.mu.Unlock()
	if status == 0 {
		return
	}
	for k, v := range inv.Reply {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "answer %d from %s", status, name)
}

// calls returns the invocations of fn (name.namespace) so far.
func (g *fakeGateway) calls(fn string) []invocation {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []invocation
	for _, inv := range g.invocations {
		if inv.Function == fn {
			out = append(out, inv)
		}
	}
	return out
}

// delivered returns how many times fn answered 2xx per message id.
func (g *fakeGateway) delivered(fn string) map[string]int {
	out := map[string]int{}
	for _, inv := range g.calls(fn) {
		if inv.Status/100 == 2 {
			out[inv.MessageID]++
		}
	}
	return out
}

// attemptsFor returns how many times fn was invoked with message id.
func (g *fakeGateway) attemptsFor(fn, id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.attempts[fn+"|"+id]
}

// checkOrder fails t if a message reached a function before the previous message of its partition
// was answered, or (unless allowConcurrent) while another message of the partition was in flight.
func (g *fakeGateway) checkOrder(t testing.TB, allowConcurrent bool) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, v := range g.violations {
		t.Errorf("order: %s", v)
	}
	if !allowConcurrent {
		for _, v := range g.concurrency {
			t.Errorf("order: %s", v)
		}
	}
}

// waitLists waits until the gateway answered n more function lists than it had when called, so a
// change is known to have been read by the connectors.
func (g *fakeGateway) waitLists(t testing.TB, n int) {
	t.Helper()
	target := g.listCount() + n
	eventually(t, 30*time.Second, func() bool { return g.listCount() >= target }, "gateway listed %d more times", n)
}

// fn returns the gateway name of a test function.
func fn(name string) string { return name + "." + namespace }

// slowly sleeps up to a millisecond so that out-of-order or parallel invocations would show.
func slowly(_ *http.Request, inv invocation) int {
	time.Sleep(time.Duration(inv.Offset%4) * 250 * time.Microsecond)
	return http.StatusOK
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
