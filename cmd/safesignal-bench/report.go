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
