package trendsignals_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/trendsignals"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"github.com/safesignal/safesignal/projections/trends/synth"
	"go.uber.org/zap"
)

// spiking files 10 medication signals a week for 30 weeks, 30 in week
// 25, and one in week 30 so that week 29 is evaluated.
func spiking(t *testing.T) *detect.Detector {
	t.Helper()
	l := synth.New()
	monday := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for w := range 31 {
		n := map[int]int{25: 30, 30: 1}[w]
		if n == 0 {
			n = 10
		}
		for i := range n {
			if _, err := l.Report(synth.Filing{ReportedAt: monday.AddDate(0, 0, 7*w).Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := detect.New(detect.Options{})
	if err := d.Apply(context.Background(), l.Events(), l.Last()); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPublishOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, js := jstest.Start(t).JetStream(t)
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	codec, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{3}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := spiking(t)
	sigs, err := d.Signals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) == 0 {
		t.Fatal("the spike raised nothing")
	}
	first := trendsignals.New(log, codec, d, zap.NewNop())
	if n, err := first.PublishOnce(ctx); err != nil || n != len(sigs) {
		t.Fatalf("first round appended %d (%v), want %d", n, err, len(sigs))
	}
	if n, err := first.PublishOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second round appended %d (%v)", n, err)
	}
	// Another replica, or this one after a restart, with a detector
	// rebuilt from the log: nothing new.
	again := trendsignals.New(log, codec, spiking(t), zap.NewNop())
	if n, err := again.PublishOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a second publisher appended %d (%v)", n, err)
	}
	for _, s := range sigs {
		id := domain.TrendSignalID(s.Key).String()
		commits, err := log.Load(ctx, eventstore.Aggregate{Type: projections.AggregateTrendSignal, ID: id}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(commits) != 1 {
			t.Fatalf("%s: %d commits, want 1", s.Key, len(commits))
		}
		events, err := codec.Decode(ctx, commits[0])
		if err != nil {
			t.Fatal(err)
		}
		got, ok := events[0].Data.(domain.TrendSignalDetected)
		if !ok || got.Key != s.Key || got.Rule != string(s.Rule) || got.Category != s.Series.Category || !got.From.Equal(s.From) {
			t.Fatalf("logged %+v for %+v", events[0].Data, s)
		}
		// The read models pass over trend signals.
		cube := trends.NewMemory()
		if err := cube.Apply(ctx, events, commits[0].Sequence); err != nil {
			t.Fatal(err)
		}
		if err := detect.New(detect.Options{}).Apply(ctx, events, commits[0].Sequence); err != nil {
			t.Fatal(err)
		}
	}
}
