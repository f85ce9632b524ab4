// Command safesignal-bench measures Safesignal against raw JetStream
// baselines taken in the same run, prints one table and writes it, with the
// machine, the profiles' top entries and how to reproduce, to
// docs/PERFORMANCE.md. Every figure is a ratio to a baseline measured in
// the same run: the machine is shared and absolute numbers are noisy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type options struct {
	events         int
	clients        int
	phase          time.Duration
	commandSignals int
	out            string
	profileDir     string
	workDir        string
	mode           string
	decodeWorkers  int
	databaseURL    string
	only           string
	pacedRate      float64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "safesignal-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("safesignal-bench", flag.ContinueOnError)
	fs.IntVar(&o.events, "events", 1_000_000, "signals (one event each) written for the rebuild, RSS and per-subject rows")
	fs.IntVar(&o.clients, "clients", 64, "concurrent HTTP clients filing signals")
	fs.DurationVar(&o.phase, "phase", 20*time.Second, "length of each timed phase (filing at max, filing at half max, baselines)")
	fs.IntVar(&o.commandSignals, "command-signals", 5000, "existing signals the command row works on")
	fs.StringVar(&o.out, "out", "docs/PERFORMANCE.md", "where the report is written")
	fs.StringVar(&o.profileDir, "profile-dir", "bench-out", "where CPU profiles are saved")
	fs.StringVar(&o.workDir, "work-dir", "", "scratch directory for data directories (default: a temporary one, removed at the end)")
	fs.StringVar(&o.mode, "mode", "full", "label of this run in the report (full, quick)")
	fs.IntVar(&o.decodeWorkers, "decode-workers", 0, "the rebuild runner's decode workers (0: the runner's default)")
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL for the read-model rows (a schema of its own, dropped afterwards); empty skips them")
	fs.StringVar(&o.only, "only", "", "run only these steps, comma-separated: filing, command, rebuild (default: all; a partial run is for comparisons, -out should not be the docs)")
	fs.Float64Var(&o.pacedRate, "paced-rate", 0, "filings/s of the paced phase (row 1b; 0: half the maximum rate measured), to compare runs at one rate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return fmt.Errorf("profile directory: %w", err)
	}
	if o.workDir == "" {
		dir, err := os.MkdirTemp("", "safesignal-bench-")
		if err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		o.workDir = dir
	}
	b := &bench{opts: o, out: stdout, started: time.Now()}
	return b.run(ctx)
}

type bench struct {
	opts    options
	out     io.Writer
	started time.Time
	bin     string
	rows    []row
	notes   []section
}

// step is one part of the run; key names it for -only.
type step struct {
	key  string
	name string
	f    func(context.Context) error
}

// section is one paragraph of the report, under a heading.
type section struct {
	title string
	body  string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) run(ctx context.Context) error {
	bin, err := buildServe(ctx, b.opts.workDir)
	if err != nil {
		return err
	}
	b.bin = bin
	b.logf("built %s", bin)

	steps := []step{
		{"filing", "filing over HTTP", b.filing},
		{"command", "command on an existing signal", b.command},
		{"rebuild", "rebuild, RSS and per-subject cost", b.rebuildAndMemory},
	}
	only := map[string]bool{}
	for _, k := range strings.Split(b.opts.only, ",") {
		if k = strings.TrimSpace(k); k != "" {
			only[k] = true
		}
	}
	for k := range only {
		if !slices.ContainsFunc(steps, func(s step) bool { return s.key == k }) {
			return fmt.Errorf("-only: unknown step %q", k)
		}
	}
	var errs []error
	for _, s := range steps {
		if len(only) > 0 && !only[s.key] {
			continue
		}
		b.logf("== %s", s.name)
		if err := s.f(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.logf("%s failed: %v", s.name, err)
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			b.rows = append(b.rows, row{Name: s.name, Ours: "failed: " + err.Error(), Baseline: "-", Ratio: "-", Target: "-", Met: "-"})
		}
	}
	total := time.Since(b.started)
	if err := writeTable(b.out, b.rows); err != nil {
		return err
	}
	if err := b.writeReport(ctx, total); err != nil {
		return err
	}
	b.logf("wrote %s (whole run %s)", b.opts.out, total.Round(time.Second))
	return errors.Join(errs...)
}

// buildServe builds cmd/safesignal into dir.
func buildServe(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "safesignal")
	if out, err := command(ctx, "go", "build", "-o", bin, "./cmd/safesignal").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build safesignal: %w\n%s", err, out)
	}
	return bin, nil
}
