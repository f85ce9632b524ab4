package trends_test

import (
	"context"
	"testing"

	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/synth"
	"github.com/safesignal/safesignal/projections/trends/trendstest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	trendstest.Run(t, func(*testing.T) trends.Store { return trends.NewMemory() })
}

// TestMemoryConcurrentQueries queries while batches are applied (run
// with -race): a query sees whole batches only, so its total never
// decreases while signals are only filed.
func TestMemoryConcurrentQueries(t *testing.T) {
	t.Parallel()
	l := synth.New()
	if err := l.Random(synth.Options{Seed: 9, Signals: 400}); err != nil {
		t.Fatal(err)
	}
	m := trends.NewMemory()
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		events := l.Events()
		for i := 0; i < len(events); i += 25 {
			b := events[i:min(i+25, len(events))]
			if err := m.Apply(ctx, b, b[len(b)-1].Sequence); err != nil {
				errs <- err
				return
			}
		}
	}()
	last := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		res, err := m.Query(ctx, trends.Query{GroupBy: []trends.Dimension{trends.DimCategory}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total < last {
			t.Fatalf("total went from %d to %d", last, res.Total)
		}
		last = res.Total
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if last != 400 {
		t.Fatalf("final total %d, want 400", last)
	}
}
