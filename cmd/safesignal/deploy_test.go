package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

// serveFlags returns the flag names `safesignal serve -h` lists.
func serveFlags(t *testing.T) []string {
	t.Helper()
	var usage bytes.Buffer
	_ = run(context.Background(), []string{"serve", "-h"}, io.Discard, &usage)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("could not read the flags from serve -h:\n%s", usage.String())
	}
	return names
}

func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// checkServeArgs checks a manifest's arguments and environment against
// the flags serve really has.
func checkServeArgs(t *testing.T, where string, args []any, env []string) {
	t.Helper()
	flags := serveFlags(t)
	for _, a := range args {
		s, _ := a.(string)
		if name, ok := strings.CutPrefix(s, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !slices.Contains(flags, name) {
				t.Errorf("%s: serve has no flag --%s", where, name)
			}
		}
	}
	for _, e := range env {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e, "SAFESIGNAL_"), "_", "-"))
		if !slices.Contains(flags, name) {
			t.Errorf("%s: %s matches no flag of serve", where, e)
		}
	}
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "deploy", "compose", "compose.yaml")
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%d documents in %s", len(docs), path)
	}
	services, _ := docs[0]["services"].(map[string]any)
	for _, want := range []string{"nats-1", "nats-2", "nats-3", "postgres", "safesignal-1", "safesignal-2", "proxy"} {
		if services[want] == nil {
			t.Errorf("compose has no service %s", want)
		}
	}
	for i := 1; i <= 3; i++ {
		svc, _ := services["nats-"+string(rune('0'+i))].(map[string]any)
		vols, _ := svc["volumes"].([]any)
		found := false
		for _, v := range vols {
			src, _, _ := strings.Cut(v.(string), ":")
			if strings.HasSuffix(src, ".conf") {
				found = true
				conf := filepath.Join("..", "..", "deploy", "compose", src)
				opts, err := server.ProcessConfigFile(conf)
				if err != nil {
					t.Fatalf("%s: %v", conf, err)
				}
				if !opts.JetStream || !opts.SyncAlways || opts.Cluster.Name == "" || len(opts.Routes) != 3 {
					t.Errorf("%s: want JetStream, sync always and a cluster of three routes", conf)
				}
			}
		}
		if !found {
			t.Errorf("nats-%d mounts no config file", i)
		}
	}
	for _, name := range []string{"safesignal-1", "safesignal-2"} {
		svc, _ := services[name].(map[string]any)
		args, _ := svc["command"].([]any)
		var env []string
		if m, ok := svc["environment"].(map[string]any); ok {
			for k := range m {
				env = append(env, k)
			}
		}
		if len(args) == 0 || len(env) == 0 {
			t.Fatalf("%s: no command or environment (anchors not merged?)", name)
		}
		checkServeArgs(t, name, args[1:], env)
	}
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	kinds := map[string]bool{}
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			kind, _ := d["kind"].(string)
			meta, _ := d["metadata"].(map[string]any)
			if d["apiVersion"] == nil || kind == "" || meta["name"] == nil {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
			}
			kinds[kind] = true
			if kind == "ConfigMap" {
				if conf, ok := d["data"].(map[string]any)["nats.conf"].(string); ok {
					p := filepath.Join(t.TempDir(), "nats.conf")
					if err := os.WriteFile(p, []byte(strings.ReplaceAll(conf, "$POD_NAME", "safesignal-nats-0")), 0o600); err != nil {
						t.Fatal(err)
					}
					opts, err := server.ProcessConfigFile(p)
					if err != nil || !opts.JetStream || !opts.SyncAlways || len(opts.Routes) != 3 {
						t.Errorf("%s: nats.conf: %v (want JetStream, sync always, three routes)", f, err)
					}
				}
			}
			if kind == "Deployment" {
				spec := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
				c := spec["containers"].([]any)[0].(map[string]any)
				var env []string
				for _, e := range c["env"].([]any) {
					env = append(env, e.(map[string]any)["name"].(string))
				}
				checkServeArgs(t, f, c["args"].([]any)[1:], env)
				probes := c["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"].(string) + " " +
					c["livenessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"].(string)
				if probes != "/readyz /healthz" {
					t.Errorf("%s: probes %q, want /readyz and /healthz", f, probes)
				}
			}
		}
	}
	for _, k := range []string{"StatefulSet", "Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("no %s among the manifests", k)
		}
	}
}
