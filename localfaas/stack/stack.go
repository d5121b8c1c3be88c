// Package stack reads an OpenFaaS stack.yml the way faas-cli does (${VAR:-default} substitution,
// environment files relative to the stack file) and answers the questions localfaas asks of it: which
// functions there are, which topics and schedules trigger them, and the deploy request faas-cli would
// send for each one. It knows nothing of any particular application.
package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/drone/envsubst"
	"github.com/openfaas/faas-provider/types"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Namespace is the only namespace localfaas has, as in faasd.
const Namespace = "openfaas-fn"

// Annotation and label keys localfaas reads, with the values OpenFaaS gives them.
const (
	// AnnotationTopic lists the triggers of a function: "cron-function" or Kafka topics, comma-separated.
	AnnotationTopic = "topic"
	// AnnotationSchedule is the cron schedule of a "cron-function".
	AnnotationSchedule = "schedule"
	// CronTopic is the topic value that marks a function for the cron trigger.
	CronTopic = "cron-function"
	// LabelScaleMin is the number of replicas a function starts with (1 when absent).
	LabelScaleMin = "com.openfaas.scale.min"
	// DLQSuffix names the dead-letter twin of every Kafka topic.
	DLQSuffix = ".dlq"
)

// Stack is a stack.yml in the subset of faas-cli's schema that localfaas uses. Fields faas-cli knows but
// localfaas ignores (fprocess, skip_build, constraints, build_options, ...) are accepted; any other key
// is reported in Warnings.
type Stack struct {
	Version       string              `yaml:"version"`
	Provider      Provider            `yaml:"provider"`
	Functions     map[string]Function `yaml:"functions"`
	Configuration Configuration       `yaml:"configuration"`

	// Path is the absolute path of the file; Dir its folder, which handlers and environment files are
	// relative to.
	Path string `yaml:"-"`
	Dir  string `yaml:"-"`
	// Warnings name keys the schema does not know (most likely typos).
	Warnings []string `yaml:"-"`
}

// Provider is the stack's provider section.
type Provider struct {
	Name    string `yaml:"name"`
	Gateway string `yaml:"gateway"`
}

// Configuration is the stack's configuration section (used by faas-cli build; kept for the schema).
type Configuration struct {
	Templates []Template `yaml:"templates"`
	Copy      []string   `yaml:"copy"`
}

// Template is a template source of the configuration section.
type Template struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source"`
}

// Resources are a function's limits or requests. localfaas reports them but does not enforce them.
type Resources struct {
	Memory string `yaml:"memory"`
	CPU    string `yaml:"cpu"`
}

// Function is one function of the stack. After Load, Environment holds the inline environment
// merged with the environment files (which override it, in order, as in faas-cli).
type Function struct {
	Name            string            `yaml:"-"`
	Lang            string            `yaml:"lang"`
	Handler         string            `yaml:"handler"`
	Image           string            `yaml:"image"`
	Environment     map[string]string `yaml:"environment"`
	EnvironmentFile []string          `yaml:"environment_file"`
	Secrets         []string          `yaml:"secrets"`
	Annotations     map[string]string `yaml:"annotations"`
	Labels          map[string]string `yaml:"labels"`
	Limits          *Resources        `yaml:"limits"`
	Requests        *Resources        `yaml:"requests"`
	BuildArgs       map[string]string `yaml:"build_args"`

	// Known to faas-cli, ignored by localfaas.
	FProcess               string            `yaml:"fprocess"`
	SkipBuild              bool              `yaml:"skip_build"`
	Constraints            []string          `yaml:"constraints"`
	ReadOnlyRootFilesystem bool              `yaml:"readonly_root_filesystem"`
	BuildOptions           []string          `yaml:"build_options"`
	Namespace              string            `yaml:"namespace"`
	Platforms              string            `yaml:"platforms"`
	BuildSecrets           map[string]string `yaml:"build_secrets"`
}

var functionNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// ValidFunctionName reports whether name is a function name OpenFaaS accepts: a DNS-1123 label, 1-63
// lower-case letters, digits and '-', starting and ending alphanumeric (faas-netes and faasd refuse
// any other, as a Kubernetes Service or a container name would).
func ValidFunctionName(name string) bool {
	return functionNamePattern.MatchString(name) && len(name) <= 63
}

// Load reads a stack file, substitutes ${VAR}, ${VAR:-default} and the other forms faas-cli
// supports (github.com/drone/envsubst) with values from lookup (os.LookupEnv in the program; an unset
// variable is empty), merges each function's environment files and validates the result. Its error names
// the file and every offending field.
func Load(path string, lookup func(string) (string, bool)) (*Stack, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load stack %s: %w", path, err)
	}
	raw, err := os.ReadFile(abs) //nolint:gosec // G304: the operator names the stack file, as with faas-cli -f
	if err != nil {
		return nil, fmt.Errorf("load stack: %w", err)
	}
	stack, err := Parse(raw, filepath.Dir(abs), lookup)
	if err != nil {
		return nil, fmt.Errorf("load stack %s: %w", path, err)
	}
	stack.Path = abs
	return stack, nil
}

// Parse is Load for a file's contents; dir is the folder paths in it are relative to.
func Parse(raw []byte, dir string, lookup func(string) (string, bool)) (*Stack, error) {
	substituted, err := envsubst.Eval(string(raw), func(name string) string {
		v, _ := lookup(name)
		return v
	})
	if err != nil {
		return nil, fmt.Errorf("substitute variables: %w", err)
	}

	var stack Stack
	if err := yaml.Unmarshal([]byte(substituted), &stack); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	stack.Warnings = unknownKeys([]byte(substituted))
	stack.Dir = dir

	var problems []error
	bad := func(field, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if stack.Version != "" && stack.Version != "1.0" {
		bad("version", "must be 1.0, not %q", stack.Version)
	}
	if stack.Provider.Name != "openfaas" {
		bad("provider.name", "must be openfaas, not %q", stack.Provider.Name)
	}
	if stack.Functions == nil {
		// An explicit empty map is a stack with nothing to deploy (testdata/empty.yml); a missing key is
		// more likely a mistake.
		bad("functions", "the stack has no functions: write `functions: {}` for a provider that starts empty")
	}
	for _, name := range stack.FunctionNames() {
		fn := stack.Functions[name]
		fn.Name = name
		field := "functions." + name
		if !ValidFunctionName(name) {
			bad(field, "name must be 1-63 lower-case letters, digits and '-', starting and ending alphanumeric")
		}
		if fn.Image == "" {
			bad(field+".image", "is required")
		}
		if fn.Handler == "" {
			bad(field+".handler", "is required")
		} else if st, err := os.Stat(filepath.Join(dir, fn.Handler)); err != nil || !st.IsDir() {
			bad(field+".handler", "%q is not a folder next to the stack file", fn.Handler)
		}
		if fn.Namespace != "" && fn.Namespace != Namespace {
			bad(field+".namespace", "localfaas has only the %s namespace, not %q", Namespace, fn.Namespace)
		}
		if v, ok := fn.Labels[LabelScaleMin]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				bad(field+".labels."+LabelScaleMin, "must be a whole number >= 0, not %q", v)
			}
		}
		if fn.Annotations[AnnotationTopic] == CronTopic {
			if _, err := cron.ParseStandard(fn.Annotations[AnnotationSchedule]); err != nil {
				bad(field+".annotations.schedule", "%q is not a cron schedule: %v", fn.Annotations[AnnotationSchedule], err)
			}
		}
		env := make(map[string]string, len(fn.Environment))
		for k, v := range fn.Environment {
			env[k] = v
		}
		for _, file := range fn.EnvironmentFile {
			fileEnv, err := readEnvironmentFile(filepath.Join(dir, file))
			if err != nil {
				bad(field+".environment_file", "%v", err)
				continue
			}
			for k, v := range fileEnv {
				env[k] = v
			}
		}
		fn.Environment = env
		stack.Functions[name] = fn
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return &stack, nil
}

// readEnvironmentFile reads a faas-cli environment file: a YAML map under the key "environment".
func readEnvironmentFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: environment_file is named by the operator's stack file
	if err != nil {
		return nil, err
	}
	var file struct {
		Environment map[string]string `yaml:"environment"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return file.Environment, nil
}

// unknownKeys decodes the document strictly and returns the keys the schema lacks.
func unknownKeys(doc []byte) []string {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	var stack Stack
	var typeErr *yaml.TypeError
	if err := dec.Decode(&stack); !errors.As(err, &typeErr) {
		return nil
	}
	var keys []string
	for _, msg := range typeErr.Errors {
		if strings.Contains(msg, "not found in type") {
			keys = append(keys, msg)
		}
	}
	return keys
}

// FunctionNames returns the names of the stack's functions in order.
func (s *Stack) FunctionNames() []string {
	names := make([]string, 0, len(s.Functions))
	for name := range s.Functions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// DefaultTopicPartitions is how many partitions the functions give the topics they create when their
// KAFKA_TOPIC_PARTITIONS is not set (shared/kafka.TopicSettings).
const DefaultTopicPartitions = 6

// TopicPartitions returns the partition count the stack's functions create their topics with: the
// largest KAFKA_TOPIC_PARTITIONS in their environments (as loaded, ${…} expanded), or
// DefaultTopicPartitions when none sets a valid one.
func (s *Stack) TopicPartitions() int32 {
	n := int32(0)
	for _, fn := range s.Functions {
		if v, err := strconv.ParseInt(strings.TrimSpace(fn.Environment["KAFKA_TOPIC_PARTITIONS"]), 10, 32); err == nil && int32(v) > n {
			n = int32(v)
		}
	}
	if n < 1 {
		return DefaultTopicPartitions
	}
	return n
}

// Topics returns the Kafka topics the stack's functions are triggered by (the "topic" annotations,
// without cron-function) and their dead-letter twins, sorted.
func (s *Stack) Topics() []string {
	set := map[string]bool{}
	for _, fn := range s.Functions {
		for _, topic := range KafkaTopics(fn.Annotations) {
			set[topic] = true
			set[topic+DLQSuffix] = true
		}
	}
	topics := make([]string, 0, len(set))
	for t := range set {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// ConsumedTopics returns the Kafka topics the stack's functions are triggered by (the "topic"
// annotations, without cron-function), sorted: what the kafka-connector must be given as its topics.
func (s *Stack) ConsumedTopics() []string {
	set := map[string]bool{}
	for _, fn := range s.Functions {
		for _, topic := range KafkaTopics(fn.Annotations) {
			set[topic] = true
		}
	}
	topics := make([]string, 0, len(set))
	for t := range set {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// KafkaTopics returns the Kafka topics named by a function's "topic" annotation.
func KafkaTopics(annotations map[string]string) []string {
	var topics []string
	for _, t := range strings.Split(annotations[AnnotationTopic], ",") {
		if t = strings.TrimSpace(t); t != "" && t != CronTopic {
			topics = append(topics, t)
		}
	}
	return topics
}

// CronSchedule returns the schedule of a function annotated as a cron-function.
func CronSchedule(annotations map[string]string) (string, bool) {
	if annotations[AnnotationTopic] != CronTopic || annotations[AnnotationSchedule] == "" {
		return "", false
	}
	return annotations[AnnotationSchedule], true
}

// Deployment is the deploy request faas-cli sends for the function.
func (fn Function) Deployment() types.FunctionDeployment {
	d := types.FunctionDeployment{
		Service:   fn.Name,
		Image:     fn.Image,
		Namespace: Namespace,
		EnvVars:   fn.Environment,
		Secrets:   fn.Secrets,
	}
	if fn.Labels != nil {
		d.Labels = &fn.Labels
	}
	if fn.Annotations != nil {
		d.Annotations = &fn.Annotations
	}
	if fn.Limits != nil {
		d.Limits = &types.FunctionResources{Memory: fn.Limits.Memory, CPU: fn.Limits.CPU}
	}
	if fn.Requests != nil {
		d.Requests = &types.FunctionResources{Memory: fn.Requests.Memory, CPU: fn.Requests.CPU}
	}
	return d
}

// Triggers describes a function's triggers from its annotations: "cron <schedule>", "kafka <topics>" or
// "http".
func Triggers(annotations map[string]string) string {
	if schedule, ok := CronSchedule(annotations); ok {
		return "cron " + schedule
	}
	if topics := KafkaTopics(annotations); len(topics) > 0 {
		return "kafka " + strings.Join(topics, ",")
	}
	return "http"
}
