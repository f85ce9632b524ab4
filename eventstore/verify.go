package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Finding is one message of the log that failed the integrity check.
type Finding struct {
	Sequence uint64
	Subject  string
	Problem  string
}

// VerifyReport is the outcome of a scan of the whole log.
type VerifyReport struct {
	Checked  uint64
	First    uint64
	Last     uint64
	Findings []Finding
}

// Verify reads every message of the log and checks that its body still
// matches the digest written with it and decodes as a commit, and that no
// sequence in the stream's range is missing (a removed message). progress,
// when not nil, is called now and then with the number checked.
func (s *JetStream) Verify(ctx context.Context, progress func(checked, total uint64)) (VerifyReport, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify: stream info: %w", err)
	}
	rep := VerifyReport{First: info.State.FirstSeq, Last: info.State.LastSeq}
	if info.State.Msgs == 0 {
		return rep, nil
	}
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	expect := info.State.FirstSeq
	for expect <= info.State.LastSeq {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return rep, fmt.Errorf("verify: fetch: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return rep, fmt.Errorf("verify: metadata: %w", err)
			}
			seq := meta.Sequence.Stream
			for ; expect < seq; expect++ {
				rep.Findings = append(rep.Findings, Finding{Sequence: expect, Problem: "missing: not in the stream (removed, or dropped by the server because its stored bytes failed the server's checksum)"})
			}
			expect = seq + 1
			rep.Checked++
			digest := m.Headers().Get(HeaderDigest)
			switch {
			case digest == "":
				rep.Findings = append(rep.Findings, Finding{Sequence: seq, Subject: m.Subject(), Problem: "no digest header"})
			default:
				if _, err := DecodeCommit(m.Data(), digest); err != nil {
					rep.Findings = append(rep.Findings, Finding{Sequence: seq, Subject: m.Subject(), Problem: err.Error()})
				}
			}
		}
		if err := batch.Error(); err != nil {
			return rep, fmt.Errorf("verify: fetch: %w", err)
		}
		if progress != nil {
			progress(rep.Checked, info.State.Msgs)
		}
		if n == 0 {
			break
		}
	}
	for ; expect <= info.State.LastSeq; expect++ {
		rep.Findings = append(rep.Findings, Finding{Sequence: expect, Problem: "missing: not in the stream (removed, or dropped by the server because its stored bytes failed the server's checksum)"})
	}
	return rep, nil
}
