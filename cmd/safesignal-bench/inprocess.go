package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

func reportCmd(i int) domain.ReportSignal {
	return domain.ReportSignal{
		Organisation: fmt.Sprint("org-", i%50), Region: "NL-UT", Specialty: "anaesthesiology",
		OccurredAt: time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC),
		Kind:       domain.KindNearMiss, Category: domain.CategoryMedication, Harm: domain.HarmNone,
		Description:      fmt.Sprintf("Tenfold morphine dose prepared; caught at the bedside double check (bench %d).", i),
		ImmediateActions: "Dose discarded, pharmacy informed.",
		Language:         "en", Reporter: fmt.Sprint("reporter-", i%1000),
	}
}

// parallel runs f(i) for i in [0,n) on workers goroutines and returns the
// first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// report files n signals through the command service, returning their ids.
func report(ctx context.Context, svc *commands.Service, n, workers int) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, n)
	err := parallel(ctx, n, workers, func(i int) error {
		res, err := svc.Report(ctx, reportCmd(i), commands.Meta{Actor: fmt.Sprint("reporter-", i%1000), Caller: "bench"})
		if err != nil {
			return fmt.Errorf("report %d: %w", i, err)
		}
		ids[i] = res.ID
		return nil
	})
	return ids, err
}

func newSecret() ([]byte, error) {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return s, nil
}

// profile runs f under the CPU profiler, saving to path.
func profile(path string, f func() error) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	ferr := f()
	pprof.StopCPUProfile()
	return ferr
}

// command is row 2: load + decide + append on existing signals, in
// process, and (as a side effect) the in-process CPU profile of filing.
func (b *bench) command(ctx context.Context) error {
	ns, nc, js, log, err := openRaw(ctx, filepath.Join(b.opts.workDir, "commands"), true)
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	defer nc.Close()
	secret, err := newSecret()
	if err != nil {
		return err
	}
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	svc, err := commands.New(log, codec, commands.Options{Secret: secret})
	if err != nil {
		return err
	}
	n, workers := b.opts.commandSignals, b.opts.clients
	var ids []uuid.UUID
	filingProfile := filepath.Join(b.opts.profileDir, "filing-inprocess.pprof")
	started := time.Now()
	if err := profile(filingProfile, func() error {
		var err error
		ids, err = report(ctx, svc, n, workers)
		return err
	}); err != nil {
		return err
	}
	b.logf("filed %d signals in process in %s (profile %s)", n, time.Since(started).Round(time.Millisecond), filingProfile)

	// A fresh codec and service: cold key and state caches, so every
	// command loads from the log.
	codec2, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	svc2, err := commands.New(log, codec2, commands.Options{Secret: secret})
	if err != nil {
		return err
	}
	loads := make([]time.Duration, n)
	if err := parallel(ctx, n, workers, func(i int) error {
		t0 := time.Now()
		if _, err := svc2.State(ctx, ids[i]); err != nil {
			return err
		}
		loads[i] = time.Since(t0)
		return nil
	}); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	loadP50, loadP99 := percentile(loads, 50), percentile(loads, 99)
	// The same loads one at a time (a fresh service again): the latency of
	// a load itself, without queueing behind 63 others on 2 cores.
	codecSeq, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	svcSeq, err := commands.New(log, codecSeq, commands.Options{Secret: secret})
	if err != nil {
		return err
	}
	if err := parallel(ctx, n, 1, func(i int) error {
		t0 := time.Now()
		if _, err := svcSeq.State(ctx, ids[i]); err != nil {
			return err
		}
		loads[i] = time.Since(t0)
		return nil
	}); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	seqP50, seqP99 := percentile(loads, 50), percentile(loads, 99)
	// Commands on signals whose state is not cached: load, decide, append.
	codec3, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	svc3, err := commands.New(log, codec3, commands.Options{Secret: secret})
	if err != nil {
		return err
	}
	started = time.Now()
	if err := parallel(ctx, n, workers, func(i int) error {
		_, err := svc3.Execute(ctx, ids[i], nil, domain.AcknowledgeSignal{At: time.Now().UTC()}, commands.Meta{Actor: "officer", Caller: "officer"})
		return err
	}); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	cmdRate := float64(n) / time.Since(started).Seconds()
	last, err := log.Last(ctx, eventstore.Aggregate{Type: projections.AggregateSignal, ID: ids[0].String()})
	if err != nil || last == nil {
		return fmt.Errorf("last commit of a signal: %v", err)
	}
	raw, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	lastRaw, err := raw.GetMsg(ctx, last.Sequence)
	if err != nil {
		return fmt.Errorf("last commit: %w", err)
	}
	size := len(lastRaw.Data)

	// Baseline: raw synchronous publishes with the expected last subject
	// sequence, same concurrency, same payload size, on new subjects.
	payload := make([]byte, size)
	prefix := eventstore.DefaultConfig().SubjectPrefix + ".raw."
	started = time.Now()
	if err := parallel(ctx, n, workers, func(i int) error {
		m := nats.NewMsg(prefix + uuid.NewString())
		m.Data = payload
		_, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(0))
		return err
	}); err != nil {
		return fmt.Errorf("raw publish: %w", err)
	}
	baseRate := float64(n) / time.Since(started).Seconds()
	b.logf("commands %.0f/s, load p50 %s p99 %s with %d workers, p50 %s p99 %s one at a time; baseline expected-sequence publish %.0f/s", cmdRate, ms(loadP50), ms(loadP99), workers, ms(seqP50), ms(seqP99), baseRate)
	b.rows = append(b.rows, row{
		Name:     fmt.Sprintf("2. command on an existing signal (acknowledge: load+decide+append, in process, %d workers, cold caches; load p50/p99 %s/%s with %d workers)", workers, ms(loadP50), ms(loadP99), workers),
		Ours:     fmt.Sprintf("%.0f commands/s; load p99 %s one at a time (p50 %s)", cmdRate, ms(seqP99), ms(seqP50)),
		Baseline: fmt.Sprintf("%.0f msgs/s (publish with expected last subject sequence, %d B)", baseRate, size),
		Ratio:    ratioText(cmdRate, baseRate),
		Target:   "load p99 < 1 ms",
		Met:      metWord(seqP99 < time.Millisecond) + " (one at a time); " + metWord(loadP99 < time.Millisecond) + fmt.Sprintf(" (%d workers)", workers),
	})
	b.notes = append(b.notes, section{"2. Command on an existing signal", fmt.Sprintf(
		"%d signals filed in process, then loaded by a service with a cold state cache and a cold key cache (so a load is one direct get per commit plus a key fetch and decryption), %d workers at once. "+
			"The command rate is for acknowledging each signal once with cold caches. The baseline publishes synchronously with `Nats-Expected-Last-Subject-Sequence` on new subjects with the same concurrency and the size of an acknowledge commit. "+
			"The filing profile (`%s`) was taken while filing these signals in process (codec, sealing, key creation, append), without HTTP.",
		n, workers, filingProfile)})
	return nil
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", dir, err)
	}
	return total, nil
}

func heapInUse() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse)
}

// rebuildAndMemory covers rows 3, 4 and 5 on one data set of N signals.
func (b *bench) rebuildAndMemory(ctx context.Context) error {
	n := b.opts.events
	dataDir := filepath.Join(b.opts.workDir, "rebuild")
	storeDir := filepath.Join(dataDir, "nats")
	secret, err := auth.LoadOrCreateSecret(filepath.Join(dataDir, "secrets", "service.key"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	// Generate: straight through the command service and event store,
	// parallel; without SyncAlways to stay within the time budget (what
	// is measured afterwards only reads).
	{
		ns, nc, js, log, err := openRaw(ctx, storeDir, false)
		if err != nil {
			return err
		}
		codec, err := projections.OpenCodec(ctx, js, secret, 1)
		if err != nil {
			nc.Close()
			ns.Shutdown()
			return err
		}
		svc, err := commands.New(log, codec, commands.Options{Secret: secret, CacheSize: 1})
		if err != nil {
			nc.Close()
			ns.Shutdown()
			return err
		}
		started := time.Now()
		_, err = report(ctx, svc, n, 2*b.opts.clients)
		nc.Close()
		ns.Shutdown()
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		b.logf("generated %d signals in %s", n, time.Since(started).Round(time.Millisecond))
	}

	// Row 5 (memory side): the server's heap after it has recovered the
	// stream, against before it started.
	before := heapInUse()
	ns, nc, js, log, err := openRaw(ctx, storeDir, true)
	if err != nil {
		return err
	}
	defer func() {
		nc.Close()
		ns.Shutdown()
	}()
	stream, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(""))
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	after := heapInUse()
	subjects := float64(info.State.NumSubjects)
	msgs := info.State.Msgs

	// Row 3 baseline: drain with a pull consumer, fetch and ack, nothing else.
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "bench_drain", AckPolicy: jetstream.AckAllPolicy, MaxAckPending: -1})
	if err != nil {
		return fmt.Errorf("drain consumer: %w", err)
	}
	started := time.Now()
	var drained uint64
	for drained < msgs {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		var lastMsg jetstream.Msg
		for m := range batch.Messages() {
			lastMsg = m
			drained++
		}
		if batch.Error() != nil {
			return fmt.Errorf("drain: %w", batch.Error())
		}
		if lastMsg == nil {
			return fmt.Errorf("drain: stalled at %d of %d", drained, msgs)
		}
		if err := lastMsg.Ack(); err != nil {
			return fmt.Errorf("drain ack: %w", err)
		}
	}
	drainRate := float64(drained) / time.Since(started).Seconds()
	b.logf("drained %d in %s: %.0f msgs/s", drained, time.Since(started).Round(time.Millisecond), drainRate)

	// Row 3: rebuild the signal-detail memory model through the runner and
	// codec with a cold key cache.
	codec, err := projections.OpenCodec(ctx, js, secret, 1)
	if err != nil {
		return err
	}
	detail := signaldetail.NewMemory()
	runner := projections.NewRunner(log, codec, detail, projections.RunnerOptions{ConsumerName: "bench_rebuild", BatchSize: 500, DecodeWorkers: b.opts.decodeWorkers}, zap.NewNop())
	rebuildProfile := filepath.Join(b.opts.profileDir, "rebuild.pprof")
	var rebuildTook time.Duration
	lastSeq := info.State.LastSeq
	if err := profile(rebuildProfile, func() error {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		started := time.Now()
		go func() { done <- runner.Run(rctx) }()
		wctx, wcancel := context.WithTimeout(ctx, 15*time.Minute)
		defer wcancel()
		go func() {
			tick := time.NewTicker(15 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-wctx.Done():
					return
				case <-tick.C:
					b.logf("rebuild at sequence %d of %d", runner.Position(), lastSeq)
				}
			}
		}()
		werr := runner.WaitFor(wctx, lastSeq)
		rebuildTook = time.Since(started)
		cancel()
		if err := <-done; err != nil {
			return err
		}
		return werr
	}); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	if detail.Len() != n {
		return fmt.Errorf("rebuild holds %d signals, want %d", detail.Len(), n)
	}
	rebuildRate := float64(msgs) / rebuildTook.Seconds()
	b.logf("rebuilt %d signals in %s: %.0f events/s", detail.Len(), rebuildTook.Round(time.Millisecond), rebuildRate)
	b.rows = append(b.rows, row{
		Name:     fmt.Sprintf("3. rebuild of the signal-detail memory model from %d events (runner + codec, cold key cache)", msgs),
		Ours:     fmt.Sprintf("%.0f events/s", rebuildRate),
		Baseline: fmt.Sprintf("%.0f msgs/s (pull consumer fetch 500 + ack)", drainRate),
		Ratio:    ratioText(rebuildRate, drainRate),
		Target:   "≥ 0.70×",
		Met:      metWord(rebuildRate/drainRate >= 0.7),
	})
	b.notes = append(b.notes, section{"3. Rebuild", fmt.Sprintf(
		"Decode workers: %d (0: the runner's default, as in `serve`). %d signals (one commit each) were written straight through the command service and event store with %d writers, on a server without SyncAlways to keep setup short (the rebuild only reads). "+
			"The server was then restarted with SyncAlways; the baseline drained the stream with a durable pull consumer (fetch 500, AckAll on the last), then the runner rebuilt `signaldetail.Memory` through the codec with a cold key cache (one key fetch per signal and per reporter). Profile: `%s`.",
		b.opts.decodeWorkers, n, 2*b.opts.clients, rebuildProfile)})

	// Rows 6 and 7: the PostgreSQL read models from the same log.
	if b.opts.databaseURL != "" {
		if err := b.postgresRows(ctx, js, log, secret, drainRate, msgs); err != nil {
			b.logf("PostgreSQL rows failed: %v", err)
			b.rows = append(b.rows, row{Name: "6. PostgreSQL rebuild", Ours: "failed: " + err.Error(), Baseline: "-", Ratio: "-", Target: "-", Met: "-"})
		}
	}

	// Row 5: per subject, disk and server memory.
	jsDir := filepath.Join(storeDir, "jetstream")
	eventsDisk, err := dirSize(filepath.Join(jsDir, "$G", "streams", eventstore.DefaultConfig().Stream))
	if err != nil {
		return err
	}
	keysDisk, err := dirSize(filepath.Join(jsDir, "$G", "streams", eventstore.KeyStream))
	if err != nil {
		return err
	}
	perSubjectDisk := float64(eventsDisk) / subjects
	perSignalDisk := float64(eventsDisk+keysDisk) / float64(n)
	perSubjectMem := (after - before) / subjects
	const projected = 25_000_000
	row5 := row{
		Name:     fmt.Sprintf("5. nats-server cost per subject (%0.f subjects in the event stream)", subjects),
		Ours:     fmt.Sprintf("disk %.0f B/subject (events), %.0f B/signal with its key; heap %.0f B/subject", perSubjectDisk, perSignalDisk, perSubjectMem),
		Baseline: "-",
		Ratio:    "-",
		Target:   fmt.Sprintf("report; at 25M signals: disk %.1f GiB, heap %.1f GiB", perSignalDisk*projected/(1<<30), perSubjectMem*projected/(1<<30)),
		Met:      "reported",
	}
	row5Note := section{"5. nats-server per subject", fmt.Sprintf(
		"Disk is the size of the stream directories (event stream %s, key stream %s) divided by subjects or signals. Memory is the growth of the Go heap in use (after a GC) of this process from before the embedded server started to after it had recovered both streams, divided by the event stream's subjects; it includes the key stream's per-subject state too (one key subject per signal plus one per reporter). Projection is linear.",
		mib(float64(eventsDisk)), mib(float64(keysDisk)))}
	nc.Close()
	ns.Shutdown()

	// Row 4: RSS of the real process after it rebuilt its read models.
	p, ready, err := startServe(ctx, b.bin, dataDir, 14*time.Minute)
	if err != nil {
		return fmt.Errorf("serve on %d signals: %w", n, err)
	}
	defer p.stop()
	rss, err := rssBytes(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	b.logf("serve ready on %d signals after %s, RSS %s", n, ready.Round(time.Millisecond), mib(rss))
	b.rows = append(b.rows, row{
		Name:     fmt.Sprintf("4. resident memory of `serve` (embedded NATS) after %d signals, ready after %s", n, ready.Round(time.Second)),
		Ours:     mib(rss),
		Baseline: "-",
		Ratio:    "-",
		Target:   "< 1024 MiB",
		Met:      metWord(rss < 1<<30),
	}, row5)
	b.notes = append(b.notes, section{"4. Resident memory of serve", fmt.Sprintf(
		"`serve` was started on the data directory of row 3 (%d signals, its own secret, embedded NATS with SyncAlways) and VmRSS read from /proc/<pid>/status once /readyz answered 200, i.e. once its read models had caught up; %s from start to ready. "+
			"The figure covers the whole process: the embedded nats-server (its per-subject state for the event and key streams, block caches), every read model serve keeps in memory without --database-url (the signal detail with its texts and indexes, the trend cube's per-signal tracker and change list, trend detection, lessons, peer support), and the state and key caches. With --database-url the signal detail and the trend cube live in PostgreSQL instead.",
		n, ready.Round(time.Millisecond))}, row5Note)
	return nil
}
