// Package envconfig reads configuration structs from environment variables with
// github.com/caarlos0/env, and reports a value that does not parse by the name of the variable an
// operator sets (env itself names the Go field).
package envconfig

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Parse fills the struct v points to from the environment (or opts' Environment), following its env
// tags, nested structs included. Its error lists every problem, each naming its variable.
func Parse(v any, opts ...env.Options) error {
	var o env.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if err := env.ParseWithOptions(v, o); err != nil {
		return nameVariables(reflect.TypeOf(v), err)
	}
	return nil
}

// nameVariables rewrites env's parse errors, which name the struct field, to name the variable.
func nameVariables(t reflect.Type, err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	keys := map[string]string{}
	collectKeys(t, keys)
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if key, ok := keys[pe.Name]; ok {
				msgs = append(msgs, fmt.Sprintf("invalid %s: %v", key, pe.Err))
				continue
			}
		}
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("%s: %w", strings.Join(msgs, "; "), err)
}

// collectKeys maps the field names of t (a struct or a pointer to one) and of its nested structs to
// their variables.
func collectKeys(t reflect.Type, keys map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if key, _, _ := strings.Cut(f.Tag.Get("env"), ","); key != "" && key != "-" {
			if _, seen := keys[f.Name]; !seen {
				keys[f.Name] = key
			}
			continue
		}
		collectKeys(f.Type, keys)
	}
}
