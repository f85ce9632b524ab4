package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/postgres"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
	"github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/schollz/progressbar/v3"
	"go.uber.org/zap"
)

// migrate brings the read-model database's schema up to date.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	url := fs.String("database-url", "", "PostgreSQL URL of the read models")
	status := fs.Bool("status", false, "list the migrations and whether each is applied; change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.envErr != nil {
		return usageError{fs.envErr.Error()}
	}
	if *url == "" {
		return usageError{"--database-url is required"}
	}
	pool, err := postgres.Connect(ctx, *url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if !*status {
		applied, err := postgres.Migrate(ctx, pool)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		for _, m := range applied {
			fmt.Fprintf(stdout, "applied %d %s\n", m.Version, m.Name)
		}
		return nil
	}
	all, err := postgres.MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	for _, m := range all {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(stdout, "%d %s %s\n", m.Version, m.Name, state)
	}
	return nil
}

// projectionNames are the read models replay can rebuild.
func projectionNames() []string {
	return []string{signaldetail.Name, trends.Name, peersupport.Name, lessons.Name}
}

// replay rebuilds PostgreSQL read models from the log into fresh tables
// and swaps them in; a running serve keeps answering from the old tables
// until the swap.
func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.databaseURL, "database-url", fs.envOr("database-url", ""), "PostgreSQL URL of the read models ($SAFESIGNAL_DATABASE_URL)")
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory holding secrets/service.key (and the embedded NATS store when --nats-url is empty: stop serve first) ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL; empty opens the embedded store in --data-dir ($SAFESIGNAL_NATS_URL)")
	fs.StringVar(&cfg.logLevel, "log-level", fs.envOr("log-level", "info"), "log level ($SAFESIGNAL_LOG_LEVEL)")
	name := fs.FlagSet.String("projection", "", "rebuild only this read model (default: all)")
	batch := fs.FlagSet.Int("batch-size", 2000, "commits applied per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.envErr != nil {
		return usageError{fs.envErr.Error()}
	}
	if cfg.databaseURL == "" {
		return usageError{"--database-url is required: read models in memory are rebuilt at every start of serve"}
	}
	if *name != "" && !slices.Contains(projectionNames(), *name) {
		return usageError{fmt.Sprintf("unknown projection %q; known: %v", *name, projectionNames())}
	}
	if *batch < 1 {
		return usageError{"--batch-size must be positive"}
	}
	logger, err := newLogger(cfg.logLevel)
	if err != nil {
		return err
	}
	secretPath := filepath.Join(cfg.dataDir, "secrets", "service.key")
	if _, err := os.Stat(secretPath); err != nil {
		return fmt.Errorf("the service secret %s is needed to open the log's sealed fields: %w", secretPath, err)
	}
	secret, err := auth.LoadOrCreateSecret(secretPath)
	if err != nil {
		return err
	}
	nc, closeNATS, err := connectNATS(cfg, logger)
	if err != nil {
		return err
	}
	defer closeNATS()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		return err
	}
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, cfg.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	detail, err := postgres.OpenSignalDetail(ctx, pool)
	if err != nil {
		return err
	}
	cube, err := postgres.OpenTrends(ctx, pool)
	if err != nil {
		return err
	}
	requests, err := postgres.OpenPeerSupport(ctx, pool)
	if err != nil {
		return err
	}
	library, err := postgres.OpenLessons(ctx, pool)
	if err != nil {
		return err
	}
	stores := map[string]rebuildableStore{}
	for _, s := range []rebuildableStore{detail, cube, requests, library} {
		stores[s.Name()] = s
	}
	for _, n := range projectionNames() {
		if *name != "" && n != *name {
			continue
		}
		progress := progressReporter(stderr, logger, n)
		res, err := stores[n].Rebuild(ctx, log, codec, postgres.RebuildOptions{Force: true, BatchSize: *batch, Progress: progress, Logger: logger})
		if err != nil {
			return err
		}
		rate := 0.0
		if res.Took > 0 {
			rate = float64(res.Through) / res.Took.Seconds()
		}
		fmt.Fprintf(stdout, "%s: rebuilt through sequence %d in %s (%.0f events/s) and swapped in\n", n, res.Through, res.Took.Round(time.Millisecond), rate)
	}
	return nil
}

// progressReporter draws a progress bar on a terminal and logs progress
// every five seconds otherwise.
func progressReporter(stderr io.Writer, logger *zap.Logger, name string) func(postgres.Progress) {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		var bar *progressbar.ProgressBar
		return func(p postgres.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions64(int64(p.Total), progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(name), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("events"), progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionFullWidth(),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
			}
			_ = bar.Set64(int64(p.Done))
		}
	}
	var last time.Time
	return func(p postgres.Progress) {
		if time.Since(last) < 5*time.Second && p.Done < p.Total {
			return
		}
		last = time.Now()
		rate := float64(p.Done) / max(p.Elapsed.Seconds(), 1e-9)
		fields := []zap.Field{zap.String("projection", name), zap.Uint64("done", p.Done), zap.Uint64("total", p.Total), zap.Float64("eventsPerSecond", rate)}
		if rate > 0 && p.Done < p.Total {
			fields = append(fields, zap.Duration("eta", time.Duration(float64(p.Total-p.Done)/rate*float64(time.Second)).Round(time.Second)))
		}
		logger.Info("replay progress", fields...)
	}
}
