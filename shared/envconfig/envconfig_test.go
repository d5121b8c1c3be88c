package envconfig_test

import (
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/stockalert/stockalert/shared/envconfig"
)

type inner struct {
	Timeout time.Duration `env:"INNER_TIMEOUT" envDefault:"1s"`
}

type config struct {
	Port  int    `env:"PORT" envDefault:"8080"`
	Name  string `env:"NAME,required"`
	Inner inner
}

func TestParseNamesTheVariables(t *testing.T) {
	var c config
	err := envconfig.Parse(&c, env.Options{Environment: map[string]string{"PORT": "eighty", "INNER_TIMEOUT": "soon"}})
	if err == nil {
		t.Fatal("bad values parsed")
	}
	for _, want := range []string{"invalid PORT", "invalid INNER_TIMEOUT", "NAME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestParseFillsNestedStructs(t *testing.T) {
	var c config
	if err := envconfig.Parse(&c, env.Options{Environment: map[string]string{"NAME": "x", "INNER_TIMEOUT": "3s"}}); err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.Name != "x" || c.Inner.Timeout != 3*time.Second {
		t.Fatalf("parsed %+v", c)
	}
}
