package projections_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// memKeyring keeps data keys in memory: the codec's own cost, without the
// key stream.
type memKeyring struct {
	mu   sync.Mutex
	keys map[string][]byte
}

func (k *memKeyring) Key(_ context.Context, scope, id string, _ bool) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	name := scope + "/" + id
	if key, ok := k.keys[name]; ok {
		return key, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	k.keys[name] = key
	return key, nil
}

func (k *memKeyring) Destroy(_ context.Context, scope, id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, scope+"/"+id)
	return nil
}

func benchCodec(b *testing.B) *projections.Codec {
	b.Helper()
	reg, err := projections.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	c, err := projections.NewCodec(reg, &memKeyring{keys: map[string][]byte{}}, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func reported(b *testing.B, c *projections.Codec) (eventstore.Envelope, []domain.Event) {
	b.Helper()
	id := uuid.New()
	e := report(id, 1).(domain.SignalReported)
	e.Anonymous, e.Reporter = false, "alice"
	return eventstore.Envelope{ID: uuid.New(), AggregateType: projections.AggregateSignal, AggregateID: id.String(), Actor: "alice"}, []domain.Event{e}
}

// BenchmarkCodecEncode seals and encodes one filing's event.
func BenchmarkCodecEncode(b *testing.B) {
	c := benchCodec(b)
	meta, events := reported(b, c)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Encode(ctx, meta, 0, events); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecDecode decodes and opens one filing's commit (keys cached),
// the per-event work of a rebuild apart from fetching keys.
func BenchmarkCodecDecode(b *testing.B) {
	c := benchCodec(b)
	meta, events := reported(b, c)
	ctx := context.Background()
	envs, err := c.Encode(ctx, meta, 0, events)
	if err != nil {
		b.Fatal(err)
	}
	commit := eventstore.Commit{Sequence: 1, Subject: "safesignal.events.signal." + meta.AggregateID, Events: envs}
	for b.Loop() {
		if _, err := c.Decode(ctx, commit); err != nil {
			b.Fatal(err)
		}
	}
}
