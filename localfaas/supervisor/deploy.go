package supervisor

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/robfig/cron/v3"

	"github.com/stockalert/stockalert/localfaas/classic"
	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/secret"
	"github.com/stockalert/stockalert/localfaas/stack"
)

// Deploy builds a function of the stack and starts its replicas (com.openfaas.scale.min of its labels,
// default 1). A request naming a stack function with its stack image has its envVars, labels and
// annotations merged over stack.yml's, and its secrets, limits and requests replace stack.yml's when
// given. A request with another image (or a function not in the stack) and an envProcess that resolves
// to an executable on PATH is a process function: its fprocess runs under the classic package's
// runner, one fork per request, with exactly the settings sent (nothing merged from the stack);
// anything else is invalid. It does not wait for readiness (see WaitReady). Errors wrap provider.ErrInvalid (the request),
// provider.ErrExists (already deployed) or provider.ErrStopped; a failed build is returned with the compiler's output.
func (s *Supervisor) Deploy(ctx context.Context, req types.FunctionDeployment) error {
	unlock := s.lock(req.Service)
	defer unlock()
	sp, replicas, err := s.resolve(req)
	if err != nil {
		return err
	}
	if _, err := s.function(sp.name); err == nil {
		return fmt.Errorf("deploy function %s: %w (use PUT /system/functions to update it)", sp.name, provider.ErrExists)
	}
	if sp.process == "" {
		if sp.binary, err = s.build(ctx, sp.name, sp.dir, false); err != nil {
			return err
		}
	}
	f := &function{name: sp.name, createdAt: time.Now().UTC(), spec: sp}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return fmt.Errorf("deploy function %s: %w", sp.name, provider.ErrStopped)
	}
	s.functions[sp.name] = f
	s.mu.Unlock()
	s.logs.register(sp.name)
	s.scaleTo(f, replicas)
	s.log.Info("function deployed", "function", sp.name, "replicas", replicas)
	return nil
}

// resolve checks a deploy request against the stack and merges it over the stack's settings.
func (s *Supervisor) resolve(req types.FunctionDeployment) (*spec, int, error) {
	name := req.Service
	if name == "" {
		return nil, 0, provider.Invalid("service (the function name) is required")
	}
	if err := provider.CheckNamespace(req.Namespace); err != nil {
		return nil, 0, err
	}
	sf, ok := s.cfg.Stack.Functions[name]
	if req.EnvProcess != "" && (!ok || normalizeImage(req.Image) != normalizeImage(sf.Image)) {
		return s.resolveProcess(req)
	}
	if !ok {
		return nil, 0, provider.Invalid("function %q is not in %s: localfaas runs only the functions of its stack file", name, s.stackName())
	}
	if normalizeImage(req.Image) != normalizeImage(sf.Image) {
		return nil, 0, provider.Invalid("image %q is not the image of function %s in %s (%q): localfaas builds each function from its handler folder and cannot run another image",
			req.Image, name, s.stackName(), sf.Image)
	}
	sp := &spec{
		name:        name,
		image:       req.Image,
		envProcess:  req.EnvProcess,
		env:         merged(sf.Environment, req.EnvVars),
		secrets:     sf.Secrets,
		labels:      merged(sf.Labels, deref(req.Labels)),
		annotations: merged(sf.Annotations, deref(req.Annotations)),
		limits:      req.Limits,
		requests:    req.Requests,
		dir:         filepath.Join(s.cfg.Stack.Dir, sf.Handler),
	}
	if len(req.Secrets) > 0 {
		sp.secrets = req.Secrets
	}
	if sp.limits == nil && sf.Limits != nil {
		sp.limits = &types.FunctionResources{Memory: sf.Limits.Memory, CPU: sf.Limits.CPU}
	}
	if sp.requests == nil && sf.Requests != nil {
		sp.requests = &types.FunctionResources{Memory: sf.Requests.Memory, CPU: sf.Requests.CPU}
	}
	replicas, err := s.minReplicas(sp.labels)
	if err != nil {
		return nil, 0, err
	}
	if schedule, ok := stack.CronSchedule(sp.annotations); ok {
		if _, err := cron.ParseStandard(schedule); err != nil {
			return nil, 0, provider.Invalid("annotation schedule %q is not a cron schedule: %v", schedule, err)
		}
	}
	if err := s.checkSecrets(sp); err != nil {
		return nil, 0, err
	}
	return sp, replicas, nil
}

// resolveProcess checks a deploy request for a process function: its name must be a valid function
// name and its envProcess must resolve to an executable (see classic.Command). Its settings are kept exactly as sent, absent ones absent and empty ones empty.
func (s *Supervisor) resolveProcess(req types.FunctionDeployment) (*spec, int, error) {
	if !stack.ValidFunctionName(req.Service) {
		return nil, 0, provider.Invalid("function name %q must be 1-63 lower-case letters, digits and '-', starting and ending alphanumeric", req.Service)
	}
	if _, err := classic.Command(req.EnvProcess); err != nil {
		return nil, 0, provider.Invalid("function %s: image %q is not built from %s and %v: localfaas runs the functions of its stack file, and other images only as an fprocess that is an executable of this machine",
			req.Service, req.Image, s.stackName(), err)
	}
	sp := &spec{
		name:        req.Service,
		image:       req.Image,
		envProcess:  req.EnvProcess,
		process:     req.EnvProcess,
		env:         maps.Clone(req.EnvVars),
		secrets:     slices.Clone(req.Secrets),
		labels:      maps.Clone(deref(req.Labels)),
		annotations: maps.Clone(deref(req.Annotations)),
		limits:      req.Limits,
		requests:    req.Requests,
	}
	if req.Labels != nil && sp.labels == nil {
		sp.labels = map[string]string{}
	}
	if req.Annotations != nil && sp.annotations == nil {
		sp.annotations = map[string]string{}
	}
	replicas, err := s.minReplicas(sp.labels)
	if err != nil {
		return nil, 0, err
	}
	if err := s.checkSecrets(sp); err != nil {
		return nil, 0, err
	}
	return sp, replicas, nil
}

// minReplicas is com.openfaas.scale.min of the labels (1 when absent), or an error wrapping
// provider.ErrInvalid.
func (s *Supervisor) minReplicas(labels map[string]string) (int, error) {
	v, ok := labels[stack.LabelScaleMin]
	if !ok {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > s.cfg.MaxReplicas {
		return 0, provider.Invalid("label %s must be a whole number from 0 to %d, not %q", stack.LabelScaleMin, s.cfg.MaxReplicas, v)
	}
	return n, nil
}

// checkSecrets validates the names of a function's secrets and warns about the missing ones.
func (s *Supervisor) checkSecrets(sp *spec) error {
	for _, name := range sp.secrets {
		if err := secret.ValidName(name); err != nil {
			return fmt.Errorf("function %s: %w", sp.name, err)
		}
		if _, err := os.Stat(filepath.Join(s.cfg.SecretsDir, name)); err != nil {
			s.log.Warn("function secret missing: create it with faas-cli secret create or in the secrets folder",
				"function", sp.name, "secret", name, "folder", s.cfg.SecretsDir)
		}
	}
	return nil
}

func (s *Supervisor) stackName() string {
	if s.cfg.Stack.Path != "" {
		return s.cfg.Stack.Path
	}
	return "stack.yml"
}

// normalizeImage makes "docker.io/library/x:latest" and "x" compare equal.
func normalizeImage(image string) string {
	image = strings.TrimPrefix(image, "docker.io/")
	image = strings.TrimPrefix(image, "library/")
	last := image[strings.LastIndex(image, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		image += ":latest"
	}
	return image
}

func merged(base, over map[string]string) map[string]string {
	if base == nil && over == nil {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

func deref(m *map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return *m
}

// Update rebuilds a deployed function and replaces its replicas with processes of the new build and
// settings (merged as in Deploy), keeping the replica count. The old processes serve until the new ones
// are ready. Errors wrap provider.ErrNotFound, ErrInvalid or ErrStopped, or report the failed build.
func (s *Supervisor) Update(ctx context.Context, req types.FunctionDeployment) error {
	unlock := s.lock(req.Service)
	defer unlock()
	sp, _, err := s.resolve(req)
	if err != nil {
		return err
	}
	f, err := s.function(sp.name)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if sp.process == "" {
		if sp.binary, err = s.build(ctx, sp.name, sp.dir, true); err != nil {
			return err
		}
	}
	if s.isStopping() {
		return fmt.Errorf("update function %s: %w", sp.name, provider.ErrStopped)
	}
	s.replace(f, sp, s.cfg.ReadyTimeout)
	s.log.Info("function updated", "function", sp.name)
	return nil
}

// Delete stops a function's processes (SIGTERM, then SIGKILL after the grace period) and forgets it; its
// logs stay readable. It returns when the processes have exited or ctx ends. Errors wrap
// provider.ErrNotFound or ErrInvalid.
func (s *Supervisor) Delete(ctx context.Context, name string) error {
	if name == "" {
		return provider.Invalid("functionName is required")
	}
	unlock := s.lock(name)
	defer unlock()
	s.mu.Lock()
	f := s.functions[name]
	delete(s.functions, name)
	s.mu.Unlock()
	if f == nil {
		return fmt.Errorf("delete function %s: %w", name, provider.ErrNotFound)
	}
	stopped := f.stopAll()
	done := make(chan struct{})
	go func() {
		awaitStopped(stopped, 2*s.cfg.StopGrace)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.log.Info("function deleted", "function", name)
	return nil
}

// Scale sets how many processes a function runs, starting or stopping some; 0 stops them all (the
// function stays deployed). Stopped processes exit in the background. Errors wrap
// provider.ErrNotFound, ErrInvalid or ErrStopped.
func (s *Supervisor) Scale(name string, replicas uint64) error {
	if replicas > uint64(s.cfg.MaxReplicas) { //nolint:gosec // G115: MaxReplicas is at least 1 (Config)
		return provider.Invalid("replicas must be at most %d, not %d", s.cfg.MaxReplicas, replicas)
	}
	unlock := s.lock(name)
	defer unlock()
	f, err := s.function(name)
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	if s.isStopping() {
		return fmt.Errorf("scale function %s: %w", name, provider.ErrStopped)
	}
	s.scaleTo(f, int(replicas)) //nolint:gosec // G115: at most MaxReplicas, checked above
	s.log.Info("function scaled", "function", name, "replicas", replicas)
	return nil
}
