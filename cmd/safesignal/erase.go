package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

// erase erases a signal's free text, or a reporter's identity, by
// destroying their data keys (what the admin API does), from the command
// line: for an operator acting on a GDPR request when no admin token is at
// hand. The erasure is audited under the operator's name.
func erase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("erase", stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.dataDir, "data-dir", fs.envOr("data-dir", "./data"), "data directory holding secrets/service.key (and the embedded NATS store when --nats-url is empty: stop serve first) ($SAFESIGNAL_DATA_DIR)")
	fs.StringVar(&cfg.natsURL, "nats-url", fs.envOr("nats-url", ""), "NATS server URL; empty opens the embedded store in --data-dir ($SAFESIGNAL_NATS_URL)")
	signal := fs.FlagSet.String("signal", "", "erase this signal's free text (its id)")
	reporter := fs.FlagSet.String("reporter", "", "erase this reporter's identity (their subject) from every signal they filed and every peer-support request they made")
	operator := fs.FlagSet.String("operator", "", "who carries the erasure out, for the audit trail (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*signal == "") == (*reporter == "") {
		return usageError{"give either --signal ID or --reporter SUBJECT"}
	}
	if *operator == "" {
		return usageError{"--operator is required: the erasure is audited under that name"}
	}
	var id uuid.UUID
	if *signal != "" {
		var err error
		if id, err = uuid.Parse(*signal); err != nil {
			return usageError{fmt.Sprintf("--signal: %q is not a signal id", *signal)}
		}
	}
	secretPath := filepath.Join(cfg.dataDir, "secrets", "service.key")
	if _, err := os.Stat(secretPath); err != nil {
		return fmt.Errorf("the service secret %s is needed: %w", secretPath, err)
	}
	secret, err := auth.LoadOrCreateSecret(secretPath)
	if err != nil {
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
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	cmds, err := commands.New(log, codec, commands.Options{Secret: secret})
	if err != nil {
		return err
	}
	trail, err := audit.Open(ctx, js, 1)
	if err != nil {
		return err
	}
	actor := "operator:" + *operator
	meta := commands.Meta{Actor: actor, Caller: actor, CorrelationID: "cli-erase-" + uuid.NewString()}
	record := audit.Record{ID: uuid.New(), Time: time.Now().UTC(), Actor: actor, Role: "operator", CorrelationID: meta.CorrelationID}
	if *signal != "" {
		record.Action, record.SignalID = "erasure.signal", id.String()
		if err := trail.Write(ctx, record); err != nil {
			return err
		}
		if err := cmds.EraseSignal(ctx, id, meta); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "erased the free text of signal %s\n", id)
		return nil
	}
	// Which signals and peer-support requests name the reporter: read the
	// log into a signal index and a request index.
	detail, requests := signaldetail.NewMemory(), peerread.NewMemory()
	last, err := log.LastSequence(ctx)
	if err != nil {
		return err
	}
	for _, store := range []projections.Projection{detail, requests} {
		if err := catchUp(ctx, log, codec, store, last); err != nil {
			return err
		}
	}
	views, err := detail.ReportedBy(ctx, *reporter)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, 0, len(views))
	for _, v := range views {
		ids = append(ids, v.ID)
	}
	record.Action = "erasure.reporter"
	if err := trail.Write(ctx, record); err != nil {
		return err
	}
	// The peer-support requests first: once the person's key is gone the
	// log no longer says which requests were theirs.
	peerIDs, err := requests.ByRequester(ctx, *reporter)
	if err != nil {
		return err
	}
	peerSvc := peersupport.New(log, codec, nil)
	peers, _, err := peersupport.EraseRequester(ctx, peerSvc, *reporter, peerIDs, actor, meta.CorrelationID)
	if err != nil {
		return err
	}
	// And the requests they took up as a peer supporter.
	supportedIDs, err := requests.BySupporter(ctx, *reporter)
	if err != nil {
		return err
	}
	supported, _, err := peersupport.EraseSupporter(ctx, peerSvc, *reporter, supportedIDs, actor, meta.CorrelationID)
	if err != nil {
		return err
	}
	n, err := cmds.EraseReporter(ctx, *reporter, ids, meta)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "erased the person's identity from %d signals, %d peer-support requests and %d acknowledgements of peer support, and destroyed their key\n", n, peers, supported)
	return nil
}

// catchUp folds the log through sequence last into store, with a
// consumer of its own that the server drops when it is idle.
func catchUp(ctx context.Context, log *eventstore.JetStream, codec *projections.Codec, store projections.Projection, last uint64) error {
	runner := projections.NewRunner(log, codec, store, projections.RunnerOptions{
		ConsumerName: "erase_" + store.Name() + "_" + instanceID(), InactiveThreshold: 5 * time.Minute, BatchSize: 2000,
	}, zap.NewNop())
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	err := runner.WaitFor(ctx, last)
	stop()
	if rerr := <-done; err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", store.Name(), err)
	}
	return nil
}
