package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// faasd's own services, which ours may depend on.
var faasdServices = []string{"gateway", "nats", "prometheus", "queue-worker"}

// composeServices decodes deploy/faasd/docker-compose.yaml and checks what faasd can run: a services
// map only, each service with an image, bind mounts with sources relative to /var/lib/faasd, no
// ${VAR} (faasd substitutes none), depends_on on known services.
func composeServices(t *testing.T) map[string]map[string]any {
	t.Helper()
	path := filepath.Join("faasd", "docker-compose.yaml")
	for i, line := range strings.Split(readFile(t, path), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "$") {
			t.Errorf("%s:%d: faasd substitutes no variables: %s", path, i+1, line)
		}
	}
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	if keys := sortedKeys(docs[0]); !slices.Equal(keys, []string{"services"}) {
		t.Errorf("%s: top-level keys %v: only services is added to faasd's file", path, keys)
	}
	raw, ok := docs[0]["services"].(map[string]any)
	if !ok {
		t.Fatalf("%s: services is not a map", path)
	}
	services := map[string]map[string]any{}
	for name, v := range raw {
		svc, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: service %s is not a map", path, name)
		}
		services[name] = svc
	}
	for name, svc := range services {
		for k := range svc {
			if !slices.Contains([]string{"image", "user", "environment", "volumes", "depends_on", "healthcheck", "command", "cap_add", "ports"}, k) {
				t.Errorf("%s: %s.%s: not a key faasd reads", path, name, k)
			}
		}
		if img, _ := svc["image"].(string); img == "" {
			t.Errorf("%s: %s has no image", path, name)
		}
		if env, ok := svc["environment"]; ok {
			envList(t, env)
		}
		vols, _ := svc["volumes"].([]any)
		for _, v := range vols {
			m, _ := v.(map[string]any)
			src, _ := m["source"].(string)
			if m["type"] != "bind" || !strings.HasPrefix(src, "./") || m["target"] == nil {
				t.Errorf("%s: %s volume %v: faasd takes only type: bind with a ./ source and a target", path, name, v)
			}
		}
		deps, _ := svc["depends_on"].([]any)
		for _, d := range deps {
			ds, _ := d.(string)
			if _, ours := services[ds]; !ours && !slices.Contains(faasdServices, ds) {
				t.Errorf("%s: %s depends on unknown service %v", path, name, d)
			}
		}
	}
	for _, want := range []string{"kafka", "mysql", "kafka-connector", "cron-connector"} {
		if services[want] == nil {
			t.Errorf("%s: no %s service", path, want)
		}
	}
	return services
}

// kubernetesDocs decodes every manifest in deploy/kubernetes and checks each names its kind, version,
// name and namespace, and that workloads select their own pods.
func kubernetesDocs(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	kinds := map[string]string{"Namespace": "v1", "ConfigMap": "v1", "Service": "v1", "Secret": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1"}
	byName := map[string]map[string]any{}
	for _, f := range files {
		for _, doc := range yamlDocs(t, f) {
			kind, _ := doc["kind"].(string)
			meta, _ := doc["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if want, ok := kinds[kind]; !ok || doc["apiVersion"] != want {
				t.Errorf("%s: kind %q apiVersion %v", f, kind, doc["apiVersion"])
			}
			if name == "" || (kind != "Namespace" && meta["namespace"] == nil) {
				t.Errorf("%s: %s without a name or namespace", f, kind)
			}
			if kind == "Deployment" || kind == "StatefulSet" {
				spec, _ := doc["spec"].(map[string]any)
				sel, _ := dig(spec, "selector", "matchLabels").(map[string]any)
				labels, _ := dig(spec, "template", "metadata", "labels").(map[string]any)
				for k, v := range sel {
					if labels[k] != v {
						t.Errorf("%s: %s %s selects %s=%v, its pods have %v", f, kind, name, k, v, labels[k])
					}
				}
				containers, _ := dig(spec, "template", "spec", "containers").([]any)
				if len(containers) == 0 {
					t.Errorf("%s: %s %s has no containers", f, kind, name)
				}
			}
			byName[kind+"/"+name] = doc
		}
	}
	return byName
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// connectorConfigMap is the data of the kafka-connector's ConfigMap on Kubernetes.
func connectorConfigMap(t *testing.T) map[string]string {
	t.Helper()
	data, _ := dig(kubernetesDocs(t)["ConfigMap/kafka-connector"], "data").(map[string]any)
	if data == nil {
		t.Fatal("deploy/kubernetes: no ConfigMap kafka-connector with data")
	}
	out := map[string]string{}
	for k, v := range data {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("ConfigMap kafka-connector: %s is %T, not a string", k, v)
		}
		out[k] = s
	}
	return out
}

func TestDeployFilesAreValid(t *testing.T) {
	composeServices(t)
	docs := kubernetesDocs(t)
	for _, want := range []string{"Namespace/stockalert", "ConfigMap/kafka-connector", "Deployment/kafka-connector", "StatefulSet/kafka", "Service/kafka", "StatefulSet/mysql", "Service/mysql"} {
		if docs[want] == nil {
			t.Errorf("deploy/kubernetes: no %s", want)
		}
	}
}

// The kafka-connector's settings in both deploy files are ones the program reads, and it accepts them.
func TestConnectorSettingsAreAccepted(t *testing.T) {
	known := envNamesRead(t, "kafkaconnector")
	faasd := envList(t, composeServices(t)["kafka-connector"]["environment"])
	for name, env := range map[string]map[string]string{"deploy/faasd": faasd, "deploy/kubernetes": connectorConfigMap(t)} {
		t.Run(name, func(t *testing.T) {
			for k, v := range env {
				if !known[k] {
					t.Errorf("%s: the kafka-connector reads no %s", name, k)
				}
				t.Setenv(k, v)
			}
			if _, err := kafkaconnector.ConfigFromEnv(); err != nil {
				t.Errorf("%s: the kafka-connector refuses its settings: %v", name, err)
			}
		})
	}
}

// The brokers the deploy files give agree: what Kafka advertises is what the connector and the
// functions (stack.yml's KAFKA_BROKERS default, on faasd) are given.
func TestBrokerAddressesAgree(t *testing.T) {
	services := composeServices(t)
	kafka := envList(t, services["kafka"]["environment"])
	advertised := strings.TrimPrefix(kafka["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT://")
	if got := envList(t, services["kafka-connector"]["environment"])["broker_hosts"]; got != advertised {
		t.Errorf("deploy/faasd: connector broker_hosts %q, Kafka advertises %q", got, advertised)
	}
	s := loadStack(t, defaultsOnly)
	for _, name := range s.FunctionNames() {
		if b, ok := s.Functions[name].Environment["KAFKA_BROKERS"]; ok && b != advertised {
			t.Errorf("stack.yml %s: KAFKA_BROKERS default %q, faasd's Kafka advertises %q", name, b, advertised)
		}
	}

	docs := kubernetesDocs(t)
	containers, _ := dig(docs["StatefulSet/kafka"], "spec", "template", "spec", "containers").([]any)
	var k8sAdvertised string
	for _, c := range containers {
		envs, _ := dig(c, "env").([]any)
		for _, e := range envs {
			if dig(e, "name") == "KAFKA_ADVERTISED_LISTENERS" {
				k8sAdvertised, _ = dig(e, "value").(string)
			}
		}
	}
	if got := connectorConfigMap(t)["broker_hosts"]; "PLAINTEXT://"+got != k8sAdvertised {
		t.Errorf("deploy/kubernetes: connector broker_hosts %q, Kafka advertises %q", got, k8sAdvertised)
	}
}

// The kafka-connector image is named like the functions' images, in both deploy files and the Makefile.
func TestConnectorImageFollowsTheStackNaming(t *testing.T) {
	want := defaultImagePrefix + "/kafka-connector:" + defaultImageTag
	if got := composeServices(t)["kafka-connector"]["image"]; got != want {
		t.Errorf("deploy/faasd: kafka-connector image %v, want %s", got, want)
	}
	containers, _ := dig(kubernetesDocs(t)["Deployment/kafka-connector"], "spec", "template", "spec", "containers").([]any)
	if len(containers) != 1 || dig(containers[0], "image") != want {
		t.Errorf("deploy/kubernetes: kafka-connector image %v, want %s", dig(containers[0], "image"), want)
	}
	mk := readFile(t, filepath.Join(root, "Makefile"))
	if !strings.Contains(mk, "$(IMAGE_PREFIX)/kafka-connector:$(IMAGE_TAG)") ||
		!regexp.MustCompile(`(?m)^IMAGE_PREFIX\s*\?=\s*`+regexp.QuoteMeta(defaultImagePrefix)+`$`).MatchString(mk) ||
		!regexp.MustCompile(`(?m)^IMAGE_TAG\s*\?=\s*`+regexp.QuoteMeta(defaultImageTag)+`$`).MatchString(mk) {
		t.Errorf("Makefile: the connector image must be $(IMAGE_PREFIX)/kafka-connector:$(IMAGE_TAG) with stack.yml's defaults")
	}
	if !strings.Contains(readFile(t, filepath.Join("faasd", "install.sh")), "image: "+want+"|") {
		t.Errorf("deploy/faasd/install.sh no longer rewrites the image %s", want)
	}
}

func TestScriptsAreExecutable(t *testing.T) {
	for _, f := range []string{"secrets.sh", "telegram-webhook.sh", filepath.Join("faasd", "install.sh"), filepath.Join(root, "template", "golang-stockalert", "build.sh")} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", f)
		}
	}
}

// make telegram-webhook sets the webhook, then the bot's "/" menus with stockalert-admin telegram menu
// (whose test checks it registers exactly the webhook's menus).
func TestMakeTelegramWebhookAlsoSetsTheMenus(t *testing.T) {
	mk := readFile(t, filepath.Join(root, "Makefile"))
	m := regexp.MustCompile(`(?m)^telegram-webhook:.*\n((?:\t.*\n)+)`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no telegram-webhook target")
	}
	hook := strings.Index(m[1], "sh deploy/telegram-webhook.sh")
	menu := strings.Index(m[1], "./cmd/stockalert-admin telegram menu")
	if hook < 0 || menu < hook {
		t.Errorf("make telegram-webhook must run deploy/telegram-webhook.sh, then stockalert-admin telegram menu:\n%s", m[1])
	}
}
