package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/eventstore"
	"go.uber.org/zap"
)

// verify scans the whole log and reports every commit whose stored bytes
// no longer match their digest, or that is missing.
func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory of the embedded NATS (stop serve first) ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL; empty opens the embedded store in --data-dir ($SAFESIGNAL_NATS_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nc, closeNATS, err := connectNATS(cfg, zap.NewNop())
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
	rep, err := log.Verify(ctx, func(checked, total uint64) {
		fmt.Fprintf(stderr, "\rchecked %d of %d commits", checked, total)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(stdout, "sequence %d %s: %s\n", f.Sequence, f.Subject, f.Problem)
	}
	if len(rep.Findings) > 0 {
		return errors.New(fmt.Sprint(len(rep.Findings), " of the log's commits failed the integrity check"))
	}
	fmt.Fprintf(stdout, "ok: %d commits (sequences %d to %d) intact\n", rep.Checked, rep.First, rep.Last)
	return nil
}
