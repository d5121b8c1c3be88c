package localfaas

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/robfig/cron/v3"
)

// maxRequestBody bounds the JSON bodies of the /system endpoints.
const maxRequestBody = 1 << 20

// deployHandler serves POST /system/functions: 202 when the function is built and its processes are
// starting, 400 for an image or function not in stack.yml, 409 when it is already deployed.
func (p *Provider) deployHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.FunctionDeployment
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := p.Deploy(r.Context(), req); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Deploy builds a function of the stack and starts its replicas (com.openfaas.scale.min of its labels,
// default 1). The request must name a stack function with its stack image; its envVars, labels and
// annotations are merged over stack.yml's, and its secrets, limits and requests replace stack.yml's
// when given. It does not wait for readiness (see WaitReady). Errors wrap ErrInvalid (the request),
// ErrExists (already deployed) or ErrStopped; a failed build is returned with the compiler's output.
func (p *Provider) Deploy(ctx context.Context, req types.FunctionDeployment) error {
	unlock := p.lock(req.Service)
	defer unlock()
	s, replicas, err := p.resolve(req)
	if err != nil {
		return err
	}
	if _, err := p.function(s.name); err == nil {
		return fmt.Errorf("deploy function %s: %w (use PUT /system/functions to update it)", s.name, ErrExists)
	}
	if s.binary, err = p.build(ctx, s.name, s.dir, false); err != nil {
		return err
	}
	f := &function{name: s.name, createdAt: time.Now().UTC(), spec: s}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	p.functions[s.name] = f
	p.mu.Unlock()
	p.logs.register(s.name)
	p.scaleTo(f, replicas)
	p.log.Info("function deployed", "function", s.name, "replicas", replicas)
	return nil
}

// resolve checks a deploy request against the stack and merges it over the stack's settings.
func (p *Provider) resolve(req types.FunctionDeployment) (*spec, int, error) {
	name := req.Service
	if name == "" {
		return nil, 0, invalid("service (the function name) is required")
	}
	if req.Namespace != "" && req.Namespace != Namespace {
		return nil, 0, invalid("namespace %q does not exist: localfaas has only %s", req.Namespace, Namespace)
	}
	sf, ok := p.cfg.Stack.Functions[name]
	if !ok {
		return nil, 0, invalid("function %q is not in %s: localfaas runs only the functions of its stack file", name, p.stackName())
	}
	if normalizeImage(req.Image) != normalizeImage(sf.Image) {
		return nil, 0, invalid("image %q is not the image of function %s in %s (%q): localfaas builds each function from its handler folder and cannot run another image",
			req.Image, name, p.stackName(), sf.Image)
	}
	s := &spec{
		name:        name,
		image:       req.Image,
		envProcess:  req.EnvProcess,
		env:         merged(sf.Environment, req.EnvVars),
		secrets:     sf.Secrets,
		labels:      merged(sf.Labels, deref(req.Labels)),
		annotations: merged(sf.Annotations, deref(req.Annotations)),
		limits:      req.Limits,
		requests:    req.Requests,
		dir:         filepath.Join(p.cfg.Stack.Dir, sf.Handler),
	}
	if len(req.Secrets) > 0 {
		s.secrets = req.Secrets
	}
	if s.limits == nil && sf.Limits != nil {
		s.limits = &types.FunctionResources{Memory: sf.Limits.Memory, CPU: sf.Limits.CPU}
	}
	if s.requests == nil && sf.Requests != nil {
		s.requests = &types.FunctionResources{Memory: sf.Requests.Memory, CPU: sf.Requests.CPU}
	}
	replicas := 1
	if v, ok := s.labels[LabelScaleMin]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > p.cfg.MaxReplicas {
			return nil, 0, invalid("label %s must be a whole number from 0 to %d, not %q", LabelScaleMin, p.cfg.MaxReplicas, v)
		}
		replicas = n
	}
	if schedule, ok := CronSchedule(s.annotations); ok {
		if _, err := cron.ParseStandard(schedule); err != nil {
			return nil, 0, invalid("annotation schedule %q is not a cron schedule: %v", schedule, err)
		}
	}
	for _, secret := range s.secrets {
		if err := validSecretName(secret); err != nil {
			return nil, 0, err
		}
		if _, err := os.Stat(filepath.Join(p.secrets.dir, secret)); err != nil {
			p.log.Warn("function secret missing: create it with faas-cli secret create or in the secrets folder",
				"function", name, "secret", secret, "folder", p.secrets.dir)
		}
	}
	return s, replicas, nil
}

func (p *Provider) stackName() string {
	if p.cfg.Stack.Path != "" {
		return p.cfg.Stack.Path
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

// decodeJSON reads a JSON request body; a malformed one is ErrInvalid.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxRequestBody {
		return invalid("request body is larger than %d bytes", maxRequestBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("request body is not valid JSON: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
