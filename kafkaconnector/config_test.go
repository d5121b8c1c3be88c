package kafkaconnector

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestConfigFromEnvironmentDefaults(t *testing.T) {
	cfg, err := configFromEnvironment(map[string]string{"topics": " prices , alerts,"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		GatewayURL: "http://gateway:8080", Brokers: []string{"kafka:9092"}, Topics: []string{"prices", "alerts"},
		Group: "faas-group-1", InitialOffset: "oldest", UpstreamTimeout: 2 * time.Minute, RebuildInterval: 30 * time.Second,
		ContentType: "text/plain", MaxBytes: 1 << 20, TopicPartitions: -1, RetryAttempts: 3, RetryInitialInterval: 500 * time.Millisecond,
		RetryMaxInterval: 30 * time.Second, RetryWindow: time.Hour, ShutdownTimeout: 30 * time.Second, SessionTimeout: 10 * time.Second,
		HeartbeatInterval: time.Second, RebalanceTimeout: 30 * time.Second, SecretMountPath: "/var/openfaas/secrets",
	}
	if got := cfg; !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if d, err := (Config{Topics: []string{"prices", "alerts"}}).withDefaults(); err != nil || !reflect.DeepEqual(d, want) {
		t.Errorf("withDefaults differs from the env defaults (err %v):\n got %+v\nwant %+v", err, d, want)
	}
}

func TestConfigBrokers(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KAFKA_BROKERS": "k1:9092,k2:9092"}, "k1:9092,k2:9092"},
		{map[string]string{"KAFKA_BROKERS": "k1:9092", "broker_hosts": "b1:9092"}, "b1:9092"},
		{map[string]string{}, "kafka:9092"},
	} {
		tc.env["topics"] = "t"
		cfg, err := configFromEnvironment(tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cfg.Brokers, ","); got != tc.want {
			t.Errorf("%v: brokers %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{}, []string{"topics: is required"}},
		{map[string]string{"topics": "t", "upstream_timeout": "soon"}, []string{"upstream_timeout:", "soon"}},
		{map[string]string{"topics": "t", "retry_attempts": "many"}, []string{"retry_attempts:"}},
		{map[string]string{"topics": "t", "basic_auth": "maybe"}, []string{"basic_auth:"}},
		{map[string]string{"topics": "t", "initial_offset": "newest"}, []string{`initial_offset: "newest" must be "oldest" or "latest"`}},
		{map[string]string{"topics": "t", "gateway_url": "gateway:8080"}, []string{"gateway_url:"}},
		{map[string]string{"topics": "t", "broker_hosts": "kafka"}, []string{`broker_hosts: "kafka" is not host:port`}},
		{map[string]string{"topics": "t", "KAFKA_BROKERS": "kafka:port"}, []string{"broker_hosts:"}},
		{map[string]string{"topics": "t,bad topic,t"}, []string{`topics: "bad topic" is not a Kafka topic name`, `topics: "t" is listed twice`}},
		{map[string]string{"topics": "t", "retry_attempts": "0", "rebuild_interval": "0s"},
			[]string{"retry_attempts: must be at least 1", "rebuild_interval: must be a positive duration"}},
		{map[string]string{"topics": "t", "retry_initial_interval": "2s", "retry_max_interval": "1s"}, []string{"retry_max_interval:"}},
		{map[string]string{"topics": "t", "heartbeat_interval": "10s", "session_timeout": "10s"}, []string{"heartbeat_interval:"}},
		{map[string]string{"topics": "t", "commit_interval": "-1s", "group": " "}, []string{"commit_interval:", "group: is required"}},
		{map[string]string{"topics": "t", "retry_window": "-1m"}, []string{"retry_window: must be a positive duration"}},
		{map[string]string{"topics": "t,t.retry,t.dlq"}, []string{`topics: "t.retry" is a retry or dead-letter topic`, `topics: "t.dlq" is a retry or dead-letter topic`}},
	} {
		_, err := configFromEnvironment(tc.env)
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not contain %q", tc.env, err, w)
			}
		}
	}
}

func TestNewChecksConfigAndCredentials(t *testing.T) {
	if _, err := New(Config{}, nil, nil); err == nil || !strings.Contains(err.Error(), "topics: is required") {
		t.Errorf("New without topics: %v", err)
	}
	dir := t.TempDir()
	_, err := New(Config{Topics: []string{"t"}, BasicAuth: true, SecretMountPath: dir}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "secret_mount_path="+dir) || !strings.Contains(err.Error(), BasicAuthUserFile) {
		t.Errorf("New with missing credential files: %v", err)
	}
}

func TestRunOnlyOnce(t *testing.T) {
	c, err := New(Config{Topics: []string{"t"}, Brokers: []string{"127.0.0.1:1"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context: %v", err)
	}
	if err := c.Run(ctx); err == nil {
		t.Error("second Run: no error")
	}
}

func TestInvocationHeaders(t *testing.T) {
	for _, tc := range []struct {
		key, want, enc string
	}{
		{"AAPL", "AAPL", ""},
		{"ключ", "ключ", ""},
		{"", "", ""},
		{"a\nb", "YQpi", "b64"},
		{" padded", "IHBhZGRlZA==", "b64"},
		{"\xff\xfe", "//4=", "b64"},
	} {
		h := http.Header{}
		setInvocationHeaders(h, kafka.Message{Topic: "t", Partition: 2, Offset: 7, Key: []byte(tc.key)})
		if h.Get(HeaderKey) != tc.want || h.Get(HeaderKeyEnc) != tc.enc {
			t.Errorf("key %q: X-Kafka-Key %q enc %q, want %q %q", tc.key, h.Get(HeaderKey), h.Get(HeaderKeyEnc), tc.want, tc.enc)
		}
		if h.Get(HeaderMessageID) != "t/2/7" || h.Get(HeaderPartition) != "2" || h.Get(HeaderOffset) != "7" {
			t.Errorf("position headers: %v", h)
		}
	}
	for key, want := range map[string]string{"trace-id": "X-Kafka-Trace-Id", "Offset": "", "key-enc": "", "a b": "", "é": "", "x_y": "X-Kafka-X_y"} {
		got, ok := headerName(key)
		if (want == "") == ok || (ok && got != want) {
			t.Errorf("headerName(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
}
