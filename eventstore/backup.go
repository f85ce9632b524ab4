package eventstore

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BackupFormat names the backup file layout: gzip-compressed JSON lines,
// one header per stream (its configuration and last sequence) followed by
// its messages in order.
const BackupFormat = "safesignal-backup/1"

type backupLine struct {
	Format string                  `json:"format,omitempty"`
	Stream string                  `json:"stream"`
	Config *jetstream.StreamConfig `json:"config,omitempty"`
	Last   uint64                  `json:"last,omitempty"`
	Count  uint64                  `json:"count,omitempty"`

	Seq     uint64              `json:"seq,omitempty"`
	Subject string              `json:"subject,omitempty"`
	Header  map[string][]string `json:"header,omitempty"`
	Data    []byte              `json:"data,omitempty"`
	Time    time.Time           `json:"time,omitzero"`
}

// BackupProgress reports how far a backup or restore has come.
type BackupProgress struct {
	Stream      string
	Done, Total uint64
}

// Backup writes every message of the named streams that exist, up to each
// stream's last sequence when its turn comes, to w. Streams are read in
// the order given: name the event log before the keyring, so every event
// in the backup finds its data key there. Deleted messages (a destroyed
// data key) stay deleted.
func Backup(ctx context.Context, js jetstream.JetStream, w io.Writer, streams []string, progress func(BackupProgress)) error {
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<20)
	enc := json.NewEncoder(bw)
	for _, name := range streams {
		stream, err := js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		cfg := info.Config
		last := info.State.LastSeq
		if err := enc.Encode(backupLine{Format: BackupFormat, Stream: name, Config: &cfg, Last: last, Count: info.State.Msgs}); err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		if info.State.Msgs == 0 {
			continue
		}
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(1000))
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		var done uint64
		for {
			m, err := it.Next()
			if err != nil {
				it.Stop()
				return fmt.Errorf("backup %s: %w", name, err)
			}
			meta, err := m.Metadata()
			if err != nil {
				it.Stop()
				return fmt.Errorf("backup %s: %w", name, err)
			}
			if meta.Sequence.Stream > last {
				break
			}
			line := backupLine{Stream: name, Seq: meta.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data(), Time: meta.Timestamp}
			if err := enc.Encode(line); err != nil {
				it.Stop()
				return fmt.Errorf("backup %s: %w", name, err)
			}
			done++
			if progress != nil && (done%1000 == 0 || meta.Sequence.Stream == last) {
				progress(BackupProgress{Stream: name, Done: done, Total: info.State.Msgs})
			}
			if meta.Sequence.Stream >= last || meta.NumPending == 0 {
				break
			}
		}
		it.Stop()
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// RestoreResult says what a restore did per stream.
type RestoreResult struct {
	Stream   string
	Messages uint64
	// SameSequences is true when every message got the sequence it had:
	// always for the event log, which has no gaps.
	SameSequences bool
}

// Restore recreates the streams of a backup, which must not exist yet,
// with their configuration, and publishes their messages in order with
// their headers (but the expectations a publisher sets, which held when
// they were first written). Projections are rebuilt from the restored log.
func Restore(ctx context.Context, js jetstream.JetStream, r io.Reader, progress func(BackupProgress)) ([]RestoreResult, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("restore: not a backup file: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(zr, 1<<20))
	var out []RestoreResult
	var cur *RestoreResult
	var total uint64
	for {
		var line backupLine
		err := dec.Decode(&line)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("restore: %w", err)
		}
		if line.Format != "" {
			if line.Format != BackupFormat || line.Config == nil {
				return out, fmt.Errorf("restore: unknown backup format %q", line.Format)
			}
			if _, err := js.Stream(ctx, line.Stream); err == nil {
				return out, fmt.Errorf("restore: stream %s exists already; restore into an empty server", line.Stream)
			}
			if _, err := js.CreateStream(ctx, *line.Config); err != nil {
				return out, fmt.Errorf("restore: create %s: %w", line.Stream, err)
			}
			out = append(out, RestoreResult{Stream: line.Stream, SameSequences: true})
			cur, total = &out[len(out)-1], line.Count
			continue
		}
		if cur == nil || line.Stream != cur.Stream {
			return out, fmt.Errorf("restore: message of %s outside its stream's section", line.Stream)
		}
		msg := &nats.Msg{Subject: line.Subject, Data: line.Data, Header: nats.Header{}}
		for k, v := range line.Header {
			if strings.HasPrefix(k, "Nats-Expected-") {
				continue
			}
			msg.Header[k] = v
		}
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			return out, fmt.Errorf("restore: %s sequence %d: %w", line.Stream, line.Seq, err)
		}
		if ack.Sequence != line.Seq {
			cur.SameSequences = false
		}
		cur.Messages++
		if progress != nil && (cur.Messages%1000 == 0 || cur.Messages == total) {
			progress(BackupProgress{Stream: cur.Stream, Done: cur.Messages, Total: total})
		}
	}
}
