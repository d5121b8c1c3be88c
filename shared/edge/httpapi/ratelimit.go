package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
)

// ClientLimits configures the rate limit of the unauthenticated writes (POST /users) per client address.
type ClientLimits struct {
	// PerMinute is the sustained rate of public writes one client address may make (token bucket,
	// golang.org/x/time/rate); 0 turns the limit off.
	PerMinute float64 `env:"PUBLIC_WRITES_PER_MINUTE" envDefault:"30"`
	// Burst is how many public writes a client address may make at once before the rate applies.
	Burst int `env:"PUBLIC_WRITES_BURST" envDefault:"30"`
	// TrustedProxyHops is the number of proxies in front of the function that append the address of
	// their peer to X-Forwarded-For (the OpenFaaS gateway: 1). The client is the entry that many
	// places from the end of the list (the first one when the list is shorter), so entries a client
	// wrote itself in front of it are ignored. 0 ignores X-Forwarded-For; a request without the
	// header is keyed by its peer address.
	TrustedProxyHops int `env:"TRUSTED_PROXY_HOPS" envDefault:"1"`
	// MaxClients bounds the addresses remembered at once. Addresses idle long enough for their bucket
	// to be full again are forgotten first (that changes nothing for them); past the bound the least
	// recently seen one is.
	MaxClients int `env:"PUBLIC_WRITES_MAX_CLIENTS" envDefault:"10000"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `env:"-"`
}

// ClientLimiter limits requests per client address: one token bucket per address, held in this process
// (each replica of a function keeps its own, so N replicas allow N times the rate). IPv4 addresses are
// keyed whole, IPv6 ones by their /64 (what one subscriber usually gets).
type ClientLimiter struct {
	cfg     ClientLimits
	idle    time.Duration
	limited prometheus.Counter

	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewClientLimiter builds the limiter of cfg and registers its metric,
// stockalert_http_rate_limited_total, with reg (nil: not registered). It returns nil, nil when
// cfg.PerMinute is 0 (no limit; Wrap of a nil limiter returns its handler unchanged). Errors: a
// negative or non-finite setting, or the metric already registered.
func NewClientLimiter(cfg ClientLimits, reg prometheus.Registerer) (*ClientLimiter, error) {
	switch {
	case cfg.PerMinute < 0 || math.IsNaN(cfg.PerMinute) || math.IsInf(cfg.PerMinute, 0):
		return nil, fmt.Errorf("PUBLIC_WRITES_PER_MINUTE must be a number of at least 0, got %v", cfg.PerMinute)
	case cfg.PerMinute == 0:
		return nil, nil //nolint:nilnil // documented: no limit configured
	case cfg.Burst < 1:
		return nil, fmt.Errorf("PUBLIC_WRITES_BURST must be at least 1, got %d", cfg.Burst)
	case cfg.TrustedProxyHops < 0:
		return nil, fmt.Errorf("TRUSTED_PROXY_HOPS must not be negative, got %d", cfg.TrustedProxyHops)
	case cfg.MaxClients < 1:
		return nil, fmt.Errorf("PUBLIC_WRITES_MAX_CLIENTS must be at least 1, got %d", cfg.MaxClients)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &ClientLimiter{
		cfg: cfg,
		// After this long without a request a bucket is full again: forgetting it changes nothing.
		idle: time.Duration(float64(cfg.Burst) / cfg.PerMinute * float64(time.Minute)),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockalert_http_rate_limited_total",
			Help: "Public writes answered 429 because their client address was over PUBLIC_WRITES_PER_MINUTE.",
		}),
		clients: make(map[string]*client),
	}
	if reg != nil {
		if err := reg.Register(l.limited); err != nil {
			return nil, fmt.Errorf("rate limit metric: %w", err)
		}
	}
	return l, nil
}

// Wrap returns h behind the limit: a request over its client's rate is answered 429 with
// Retry-After (whole seconds, RFC 9110 §10.2.3) and {"error": "...", "field": ""}, and h is not
// called. A nil l returns h.
func (l *ClientLimiter) Wrap(h http.Handler) http.Handler {
	if l == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := l.reserve(ClientAddress(r, l.cfg.TrustedProxyHops)); wait > 0 {
			l.limited.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			httpjson.WriteError(w, http.StatusTooManyRequests,
				"too many requests from your address: try again in "+wait.Round(time.Second).String(), "")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// reserve takes a token of key's bucket and returns 0, or, when there is none, takes nothing and
// returns how long until there is one.
func (l *ClientLimiter) reserve(key string) time.Duration {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= l.cfg.MaxClients {
			l.evict(now)
		}
		c = &client{lim: rate.NewLimiter(rate.Limit(l.cfg.PerMinute/60), l.cfg.Burst)}
		l.clients[key] = c
	}
	c.seen = now
	res := c.lim.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return wait
	}
	return 0
}

// evict makes room for one client: it forgets every idle one, or else the least recently seen.
func (l *ClientLimiter) evict(now time.Time) {
	var oldest string
	for k, c := range l.clients {
		if now.Sub(c.seen) >= l.idle {
			delete(l.clients, k)
			continue
		}
		if oldest == "" || c.seen.Before(l.clients[oldest].seen) {
			oldest = k
		}
	}
	if len(l.clients) >= l.cfg.MaxClients {
		delete(l.clients, oldest)
	}
}

// Clients is how many client addresses l remembers.
func (l *ClientLimiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// ClientAddress returns the key of r's client: the X-Forwarded-For entry trustedHops places from the
// end of the list (all the header's lines, comma-separated, in order; the first entry when there are
// fewer), or r.RemoteAddr when trustedHops is 0 or the header is absent. An entry's port and IPv6
// brackets are dropped ("203.0.113.7:53122" and "203.0.113.7" are one client); an IPv6 address stands
// for its /64; an entry that is no address is used as written, at most 64 bytes.
func ClientAddress(r *http.Request, trustedHops int) string {
	var entries []string
	if trustedHops > 0 {
		for _, line := range r.Header.Values("X-Forwarded-For") {
			for e := range strings.SplitSeq(line, ",") {
				if e = strings.TrimSpace(e); e != "" {
					entries = append(entries, e)
				}
			}
		}
	}
	if len(entries) == 0 {
		return addressKey(r.RemoteAddr)
	}
	return addressKey(entries[max(len(entries)-trustedHops, 0)])
}

// addressKey is the limiter key of one "host", "host:port" or "[v6]:port".
func addressKey(s string) string {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host[:min(len(host), 64)]
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
