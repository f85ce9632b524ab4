package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/policies"
	"github.com/safesignal/safesignal/eventstore"
	"go.uber.org/zap"
)

// backupStreams are the streams a backup holds, the event log before the
// keyring so that every event finds its data key.
func backupStreams() []string {
	return []string{eventstore.DefaultConfig().Stream, eventstore.KeyStream, audit.Stream, policies.PoisonStream, "KV_" + policies.RemindersBucket}
}

// backup writes the log, the keyring, the audit trail and the policies'
// state to a file.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory of the embedded NATS (stop serve first) ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL; empty opens the embedded store in --data-dir ($SAFESIGNAL_NATS_URL)")
	out := fs.FlagSet.String("out", "", "backup file to write (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
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
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	err = eventstore.Backup(ctx, js, f, backupStreams(), func(p eventstore.BackupProgress) {
		fmt.Fprintf(stderr, "\r%s: %d of %d messages", p.Stream, p.Done, p.Total)
		if p.Done == p.Total {
			fmt.Fprintln(stderr)
		}
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*out)
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", *out)
	return nil
}

// restore recreates the streams of a backup on an empty server.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory of the embedded NATS to restore into (serve stopped) ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL to restore into; empty: the embedded store in --data-dir ($SAFESIGNAL_NATS_URL)")
	in := fs.FlagSet.String("in", "", "backup file to read (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{"--in is required"}
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	nc, closeNATS, err := connectNATS(cfg, zap.NewNop())
	if err != nil {
		return err
	}
	defer closeNATS()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	results, err := eventstore.Restore(ctx, js, f, func(p eventstore.BackupProgress) {
		fmt.Fprintf(stderr, "\r%s: %d of %d messages", p.Stream, p.Done, p.Total)
		if p.Done == p.Total {
			fmt.Fprintln(stderr)
		}
	})
	for _, r := range results {
		fmt.Fprintf(stdout, "%s: %d messages restored (same sequences: %v)\n", r.Stream, r.Messages, r.SameSequences)
	}
	if err != nil {
		return err
	}
	if len(results) == 0 || results[0].Stream != eventstore.DefaultConfig().Stream || !results[0].SameSequences {
		return fmt.Errorf("restore: the event log did not come back with its own sequences")
	}
	return nil
}
