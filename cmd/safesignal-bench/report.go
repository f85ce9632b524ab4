package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "unknown"
}

// pprofTop returns the top entries of a CPU profile, by flat and by
// cumulative time.
func pprofTop(ctx context.Context, profile string) string {
	var b strings.Builder
	for _, args := range [][]string{{"-top", "-nodecount=12"}, {"-top", "-cum", "-nodecount=25"}} {
		out, err := command(ctx, "go", append(append([]string{"tool", "pprof"}, args...), profile)...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(&b, "(pprof %v failed: %v)\n", args, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		start := 0
		for i, l := range lines {
			if strings.Contains(l, "flat%") {
				start = i
				break
			}
		}
		b.WriteString(strings.Join(lines[start:], "\n") + "\n\n")
	}
	return b.String()
}

func (b *bench) writeReport(ctx context.Context, total time.Duration) error {
	var w strings.Builder
	w.WriteString("# Performance\n\n")
	w.WriteString("Written by `make bench` (`go run ./cmd/safesignal-bench`); do not edit by hand, run it again. ")
	w.WriteString("Every figure is compared with a raw JetStream baseline measured in the same run, because the machine is shared and absolute numbers are noisy.\n\n")
	fmt.Fprintf(&w, "Run: %s mode, %s UTC, whole run %s.\n\n", b.opts.mode, b.started.UTC().Format(time.DateTime), total.Round(time.Second))
	if err := writeTable(&w, b.rows); err != nil {
		return err
	}
	w.WriteString("\n## Machine\n\n")
	fmt.Fprintf(&w, "- CPUs (nproc): %d\n- CPU: %s\n- Go: %s\n- nats-server: %s (go.mod)\n- nats.go: %s\n\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), moduleVersion("github.com/nats-io/nats-server/v2"), moduleVersion("github.com/nats-io/nats.go"))
	w.WriteString("## Rows\n\n")
	for _, s := range b.notes {
		fmt.Fprintf(&w, "### %s\n\n%s\n\n", s.title, s.body)
	}
	w.WriteString("## Where the time goes\n\n")
	filingLabels := [][2]string{
		{"syscall.Fsync", "fsync (`syscall.Fsync`)"},
		{"github.com/nats-io/nats-server/v2/server.(*fileStore).StoreMsg", "the server storing messages (`fileStore.StoreMsg`)"},
		{"github.com/safesignal/safesignal/adapters/commands.(*Service).Report", "the command service (`Service.Report`)"},
		{"github.com/safesignal/safesignal/projections.(*Codec).Encode", "encoding and sealing (`Codec.Encode`)"},
		{"github.com/safesignal/safesignal/eventstore.(*JetStreamKeyring).Key", "data keys (`JetStreamKeyring.Key`)"},
		{"runtime.gcBgMarkWorker", "garbage collection (`gcBgMarkWorker`)"},
	}
	rebuildLabels := [][2]string{
		{"github.com/safesignal/safesignal/projections.(*Codec).Decode", "decoding (`Codec.Decode`)"},
		{"github.com/safesignal/safesignal/eventstore.Unseal", "decryption with key look-up (`eventstore.Unseal`)"},
		{"github.com/safesignal/safesignal/eventstore.(*JetStreamKeyring).Key", "of which fetching data keys (`JetStreamKeyring.Key`)"},
		{"github.com/nats-io/nats-server/v2/server.(*stream).processDirectGetLastBySubjectRequest", "the server answering key look-ups (direct get last by subject)"},
		{"encoding/json.Unmarshal", "JSON decoding (`json.Unmarshal`)"},
		{"github.com/safesignal/safesignal/eventstore.DecodeCommit", "commit decoding and digest check (`DecodeCommit`)"},
		{"github.com/safesignal/safesignal/projections/signaldetail.(*Memory).Apply", "the read model (`Memory.Apply`)"},
		{"runtime.gcBgMarkWorker", "garbage collection (`gcBgMarkWorker`)"},
	}
	for _, p := range []struct {
		name, what string
		labels     [][2]string
	}{
		{"filing-inprocess.pprof", "Filing path (rows 1 and 2), in process without HTTP", filingLabels},
		{"rebuild.pprof", "Rebuild (row 3)", rebuildLabels},
	} {
		path := filepath.Join(b.opts.profileDir, p.name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		fmt.Fprintf(&w, "**%s.** Share of CPU samples, cumulative: %s. (Samples are the whole process: the embedded nats-server runs in it.)\n\n", p.what, shareSentence(cumShares(ctx, path, labelNames(p.labels)), p.labels))
	}
	for _, name := range []string{"filing-inprocess.pprof", "rebuild.pprof"} {
		path := filepath.Join(b.opts.profileDir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		fmt.Fprintf(&w, "`go tool pprof -top %s` (this run):\n\n```\n%s```\n\n", path, pprofTop(ctx, path))
	}
	w.WriteString("## Reproduce\n\n")
	w.WriteString("```sh\nmake bench        # the full run: 1,000,000 signals for rows 3 to 5\nmake bench-quick  # 50,000 signals, shorter phases\ngo run ./cmd/safesignal-bench -h   # flags\n```\n\n")
	w.WriteString("CPU profiles are saved under `bench-out/` (ignored by git); open one with `go tool pprof -http=: bench-out/rebuild.pprof`.\n")
	if err := os.WriteFile(b.opts.out, []byte(w.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// cumShares returns the cumulative share of the CPU samples of each named
// function in a profile ("-" when it does not appear).
func cumShares(ctx context.Context, profile string, funcs []string) map[string]string {
	out := map[string]string{}
	for _, f := range funcs {
		out[f] = "-"
	}
	text, err := command(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=1000", profile).CombinedOutput()
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(text), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			continue
		}
		name := strings.Join(fields[5:], " ")
		if _, ok := out[name]; ok {
			out[name] = fields[4]
		}
	}
	return out
}

// shareSentence renders "label X of the samples" for each function.
func shareSentence(shares map[string]string, labels [][2]string) string {
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s %s", l[1], shares[l[0]]))
	}
	return strings.Join(parts, "; ")
}

func labelNames(labels [][2]string) []string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l[0]
	}
	return names
}
