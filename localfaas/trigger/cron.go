package trigger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// FunctionLister lists the deployed functions with their annotations.
type FunctionLister interface {
	Functions() []types.FunctionStatus
}

// CronConfig configures a CronTrigger. Zero durations take the defaults shown.
type CronConfig struct {
	// Gateway is the base URL functions are invoked through, e.g. http://127.0.0.1:8080.
	Gateway string
	// Functions is where the trigger finds the functions annotated topic: cron-function.
	Functions FunctionLister
	// Refresh is how often the schedules are read again (1s).
	Refresh time.Duration
	// Timeout bounds one invocation (60s).
	Timeout time.Duration
	// Client makes the invocations (a plain http.Client).
	Client *http.Client
	// Logger receives one line per run. Default: slog.Default().
	Logger *slog.Logger
	// Registerer receives localfaas_cron_runs_total; nil registers nothing.
	Registerer prometheus.Registerer
	// External leaves scheduling to an external cron-connector (OpenFaaS's, pointed at this gateway):
	// Run invokes nothing, logs "cron disabled" with the cron functions it leaves to it, and waits for
	// its context. Without it both would run each function, twice per tick.
	External bool
}

// CronTrigger invokes the functions annotated `topic: cron-function` on their `schedule`, as OpenFaaS's
// cron-connector does: robfig/cron v3 standard syntax (five fields or a descriptor such as @every 1m,
// with an optional CRON_TZ= prefix), a POST /function/<name>.openfaas-fn with an empty body and the
// headers X-Topic: cron-function and X-Connector: cron-connector. Unlike the cron-connector, a run never
// overlaps the previous run of the same function: a tick that finds one in flight is skipped.
type CronTrigger struct {
	cfg  CronConfig
	log  *slog.Logger
	runs *prometheus.CounterVec
}

// cron result labels.
const (
	cronOK      = "ok"
	cronFailed  = "failed"
	cronSkipped = "skipped"
)

// NewCronTrigger returns a cron trigger. It fails when the metrics cannot be registered.
func NewCronTrigger(cfg CronConfig) (*CronTrigger, error) {
	if cfg.Gateway == "" || cfg.Functions == nil {
		return nil, errors.New("cron trigger: CronConfig.Gateway and Functions are required")
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &CronTrigger{
		cfg: cfg,
		log: cfg.Logger,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "localfaas_cron_runs_total",
			Help: "Cron runs by function and result (ok, failed, skipped because the previous run was still going).",
		}, []string{"function_name", "result"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(t.runs); err != nil {
			return nil, fmt.Errorf("cron trigger: register metrics: %w", err)
		}
	}
	return t, nil
}

// Run schedules the cron functions, following deploys, updates and deletes, until ctx ends; then it
// waits for the runs in flight (each bounded by Timeout) and returns nil.
func (t *CronTrigger) Run(ctx context.Context) error {
	if t.cfg.External {
		var names []string
		for _, fn := range t.cfg.Functions.Functions() {
			if fn.Annotations == nil {
				continue
			}
			if _, ok := stack.CronSchedule(*fn.Annotations); ok {
				names = append(names, fn.Name)
			}
		}
		t.log.Info("cron disabled: schedules are left to an external cron-connector", "functions", strings.Join(names, ","))
		<-ctx.Done()
		return nil
	}
	c := cron.New(cron.WithParser(cron.NewParser(
		cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)))
	c.Start()
	// Runs outlive ctx: a run that started is allowed to finish (drain), within Timeout.
	runCtx := context.WithoutCancel(ctx)
	type entry struct {
		schedule string
		id       cron.EntryID
	}
	entries := map[string]entry{}
	// One job per function, kept across schedule changes, so that a run of the old schedule still going
	// holds off the new schedule's ticks too.
	jobs := map[string]cron.Job{}
	refresh := func() {
		seen := map[string]bool{}
		for _, fn := range t.cfg.Functions.Functions() {
			var annotations map[string]string
			if fn.Annotations != nil {
				annotations = *fn.Annotations
			}
			schedule, ok := stack.CronSchedule(annotations)
			if !ok {
				continue
			}
			seen[fn.Name] = true
			if e, ok := entries[fn.Name]; ok && e.schedule == schedule {
				continue
			} else if ok {
				c.Remove(e.id)
			}
			name := fn.Name
			job := jobs[name]
			if job == nil {
				job = cron.NewChain(cron.SkipIfStillRunning(skipLogger{t, name})).Then(cron.FuncJob(func() { t.invoke(runCtx, name) }))
				jobs[name] = job
			}
			id, err := c.AddJob(schedule, job)
			if err != nil {
				t.log.Error("cron schedule refused", "function", name, "schedule", schedule, "err", err)
				delete(entries, name)
				continue
			}
			entries[name] = entry{schedule: schedule, id: id}
			t.log.Info("cron scheduled", "function", name, "schedule", schedule, "next", c.Entry(id).Next.Format(time.TimeOnly))
		}
		for name, e := range entries {
			if !seen[name] {
				c.Remove(e.id)
				delete(entries, name)
				t.log.Info("cron unscheduled", "function", name)
			}
		}
	}
	refresh()
	tick := time.NewTicker(t.cfg.Refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			<-c.Stop().Done()
			return nil
		case <-tick.C:
			refresh()
		}
	}
}

// skipLogger is the cron.Logger of one function's SkipIfStillRunning wrapper: it counts and logs the
// ticks skipped because the previous run is still going.
type skipLogger struct {
	t    *CronTrigger
	name string
}

// Info is called by SkipIfStillRunning with "skip" when a tick finds the previous run going.
func (l skipLogger) Info(msg string, _ ...any) {
	if msg != "skip" {
		return
	}
	// Logged before it is counted, so whoever sees the count can find the line.
	l.t.log.Warn("cron run skipped: the previous run is still going", "function", l.name)
	l.t.runs.WithLabelValues(l.name, cronSkipped).Inc()
}

// Error is not called by SkipIfStillRunning; it logs what it is given.
func (l skipLogger) Error(err error, msg string, keysAndValues ...any) {
	l.t.log.Error("cron: "+msg, append([]any{"function", l.name, "err", err}, keysAndValues...)...)
}

// invoke runs a function once (SkipIfStillRunning keeps runs of one function from overlapping).
func (t *CronTrigger) invoke(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	start := time.Now()
	status, summary, err := t.call(ctx, name)
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case err != nil:
		t.runs.WithLabelValues(name, cronFailed).Inc()
		t.log.Warn("cron run failed", "function", name, "took", took, "err", err)
	case status >= 300:
		t.runs.WithLabelValues(name, cronFailed).Inc()
		t.log.Warn("cron run failed", "function", name, "status", status, "took", took, "response", summary)
	default:
		t.runs.WithLabelValues(name, cronOK).Inc()
		t.log.Info("cron run", "function", name, "status", status, "took", took, "response", summary)
	}
}

// call invokes the function through the gateway and returns the status and the start of the body.
func (t *CronTrigger) call(ctx context.Context, name string) (int, string, error) {
	url := strings.TrimSuffix(t.cfg.Gateway, "/") + "/function/" + name + "." + stack.Namespace
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		return 0, "", fmt.Errorf("invoke %s: %w", name, err)
	}
	req.Header.Set("X-Topic", stack.CronTopic)
	req.Header.Set("X-Connector", "cron-connector")
	res, err := t.cfg.Client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("invoke %s: %w", name, err)
	}
	head, err := io.ReadAll(io.LimitReader(res.Body, 300))
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
	}
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res.StatusCode, "", fmt.Errorf("invoke %s: read the answer: %w", name, err)
	}
	summary := strings.TrimSpace(string(bytes.ReplaceAll(head, []byte("\n"), []byte(" "))))
	return res.StatusCode, summary, nil
}
