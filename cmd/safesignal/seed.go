package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends/synth"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// syntheticMarker names the file that marks a data directory as holding
// synthetic data; serve warns when it finds one.
const syntheticMarker = "SYNTHETIC-DATA.txt"

// seed fills a data directory of its own with a year of synthetic signals
// across a demonstration network, so the trend views and detection have
// something to show. It never writes into a directory holding a real log.
func seed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", stderr)
	dataDir := fs.FlagSet.String("data-dir", "./data-demo", "data directory for the synthetic data (a new one, or one seed made before)")
	weeks := fs.FlagSet.Int("weeks", 52, "weeks of history")
	perWeek := fs.FlagSet.Float64("per-org-week", 6, "mean signals per organisation and week")
	rng := fs.FlagSet.Uint64("seed", 1, "random seed (the same seed makes the same data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weeks < 1 || *weeks > 520 || *perWeek <= 0 || *perWeek > 1000 {
		return usageError{"--weeks must be from 1 to 520 and --per-org-week from 0 to 1000"}
	}
	marker := filepath.Join(*dataDir, syntheticMarker)
	if _, err := os.Stat(filepath.Join(*dataDir, "nats")); err == nil {
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("%s holds a log that seed did not make; seed writes only into a data directory of its own", *dataDir)
		}
		return fmt.Errorf("%s holds synthetic data already; remove the directory to seed again", *dataDir)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := os.WriteFile(marker, []byte("This data directory holds SYNTHETIC data made by `safesignal seed`.\nNo signal in it is real. Delete the directory to remove it.\n"), 0o600); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	l := synth.New()
	if err := l.Demo(synth.DemoOptions{Seed: *rng, Weeks: *weeks, PerOrgWeek: *perWeek, End: time.Now().UTC()}); err != nil {
		return err
	}
	secret, err := auth.LoadOrCreateSecret(filepath.Join(*dataDir, "secrets", "service.key"))
	if err != nil {
		return err
	}
	nc, closeNATS, err := connectNATS(serveConfig{dataDir: *dataDir}, zap.NewNop())
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
	// One commit per command, each signal's commits in order; signals in
	// parallel.
	type commit struct{ events []projections.Event }
	bySignal := map[string][]commit{}
	var order []string
	events := l.Events()
	for i := 0; i < len(events); {
		j := i
		for j < len(events) && events[j].Sequence == events[i].Sequence {
			j++
		}
		id := events[i].Envelope.AggregateID
		if _, ok := bySignal[id]; !ok {
			order = append(order, id)
		}
		bySignal[id] = append(bySignal[id], commit{events: events[i:j]})
		i = j
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, id := range order {
		g.Go(func() error {
			var expected uint64
			for _, c := range bySignal[id] {
				data := make([]domain.Event, len(c.events))
				for i, e := range c.events {
					data[i] = e.Data
				}
				first := c.events[0].Envelope
				meta := eventstore.Envelope{
					ID: uuid.Must(uuid.NewV7()), AggregateType: projections.AggregateSignal, AggregateID: id,
					OccurredAt: first.OccurredAt, RecordedAt: first.RecordedAt, Actor: "synthetic-reporter",
				}
				envs, err := codec.Encode(gctx, meta, first.AggregateVersion-1, data)
				if err != nil {
					return err
				}
				res, err := log.Append(gctx, eventstore.AppendRequest{
					Aggregate: eventstore.Aggregate{Type: projections.AggregateSignal, ID: id}, ExpectedSequence: expected, Events: envs,
				})
				if err != nil {
					return err
				}
				expected = res.Sequence
			}
			mu.Lock()
			done++
			if done%500 == 0 || done == len(order) {
				fmt.Fprintf(stderr, "\rseeded %d of %d signals", done, len(order))
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("seed (the directory stays marked synthetic; delete it and seed again): %w", err)
	}
	fmt.Fprintln(stderr)
	fmt.Fprintf(stdout, "%d synthetic signals (%d events) in %s; serve them with:\n  safesignal serve --data-dir %s\n", len(order), len(events), *dataDir, *dataDir)
	return nil
}
