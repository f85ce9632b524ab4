package signaldetailtest

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"golang.org/x/sync/errgroup"
)

// AppendHistory writes the history to a real log, each commit as one
// append with its expected sequence. Signals are spread over workers;
// each signal's commits keep their order.
func AppendHistory(tb testing.TB, log *eventstore.JetStream, codec *projections.Codec, h History, workers int) uint64 {
	tb.Helper()
	ctx := context.Background()
	bySignal := map[string][][]projections.Event{}
	var order []string
	for _, c := range h.Commits {
		id := c[0].Envelope.AggregateID
		if _, ok := bySignal[id]; !ok {
			order = append(order, id)
		}
		bySignal[id] = append(bySignal[id], c)
	}
	var mu sync.Mutex
	var last uint64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for _, id := range order {
		g.Go(func() error {
			var expected uint64
			for _, c := range bySignal[id] {
				events := make([]domain.Event, len(c))
				for i, e := range c {
					events[i] = e.Data
				}
				meta := eventstore.Envelope{ID: uuid.New(), AggregateType: projections.AggregateSignal, AggregateID: id}
				envs, err := codec.Encode(gctx, meta, c[0].Envelope.AggregateVersion-1, events)
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
			last = max(last, expected)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatalf("append history: %v", err)
	}
	return last
}
