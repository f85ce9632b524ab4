package eventstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrKeyErased is returned for a data key that was destroyed: whatever it
// encrypted is gone for good.
var ErrKeyErased = errors.New("data key erased")

// Keyring keeps the data keys that encrypt sensitive fields, apart from the
// events they encrypt. Destroying a key erases every field it sealed.
type Keyring interface {
	// Key returns the key of scope/id, creating it first when create is
	// set and there is none. An erased key is ErrKeyErased.
	Key(ctx context.Context, scope, id string, create bool) ([]byte, error)
	// Destroy erases the key so that its bytes are gone from the store.
	Destroy(ctx context.Context, scope, id string) error
}

// Keyring stream layout.
const (
	KeyStream        = "SAFESIGNAL_KEYS"
	keySubjectPrefix = "safesignal.keys"
	headerErased     = "Safesignal-Erased"
	dataKeyBytes     = 32
)

// JetStreamKeyring stores one message per key on subject
// safesignal.keys.<scope>.<id>. Destroy overwrites the key's message in
// the server's files (secure delete) and leaves an "erased" marker, so the
// key is never silently created again. Keys are cached for CacheTTL; after
// an erasure another replica may still decrypt for that long.
type JetStreamKeyring struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cache  *expirable.LRU[string, []byte]
}

// KeyCacheTTL bounds how long a replica keeps a key it has read.
const KeyCacheTTL = time.Minute

// OpenKeyring creates or updates the key stream.
func OpenKeyring(ctx context.Context, js jetstream.JetStream, replicas int) (*JetStreamKeyring, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              KeyStream,
		Description:       "Safesignal data keys (crypto-shredding): destroying one erases what it encrypted",
		Subjects:          []string{keySubjectPrefix + ".>"},
		Storage:           jetstream.FileStorage,
		Replicas:          max(replicas, 1),
		AllowDirect:       true,
		MaxMsgsPerSubject: -1,
		DenyPurge:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("key stream: %w", err)
	}
	return &JetStreamKeyring{js: js, stream: s, cache: expirable.NewLRU[string, []byte](100_000, nil, KeyCacheTTL)}, nil
}

func keySubject(scope, id string) (string, error) {
	for _, p := range []string{scope, id} {
		if p == "" || strings.ContainsAny(p, ".*> \t\r\n") || len(p) > 128 {
			return "", fmt.Errorf("key name %q/%q is not a subject token", scope, id)
		}
	}
	return keySubjectPrefix + "." + scope + "." + id, nil
}

// Key implements Keyring.
func (k *JetStreamKeyring) Key(ctx context.Context, scope, id string, create bool) ([]byte, error) {
	subject, err := keySubject(scope, id)
	if err != nil {
		return nil, err
	}
	if key, ok := k.cache.Get(subject); ok {
		return key, nil
	}
	for range 3 {
		msg, err := k.stream.GetLastMsgForSubject(ctx, subject)
		switch {
		case err == nil:
			if msg.Header.Get(headerErased) != "" {
				return nil, fmt.Errorf("key %s/%s: %w", scope, id, ErrKeyErased)
			}
			if len(msg.Data) != dataKeyBytes {
				return nil, fmt.Errorf("key %s/%s: stored key has %d bytes", scope, id, len(msg.Data))
			}
			k.cache.Add(subject, msg.Data)
			return msg.Data, nil
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			return nil, fmt.Errorf("key %s/%s: %w", scope, id, err)
		case !create:
			return nil, fmt.Errorf("key %s/%s: %w", scope, id, ErrKeyErased)
		}
		key := make([]byte, dataKeyBytes)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("key %s/%s: %w", scope, id, err)
		}
		m := nats.NewMsg(subject)
		m.Data = key
		_, err = k.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(0))
		if err == nil {
			k.cache.Add(subject, key)
			return key, nil
		}
		if !IsConflict(err) {
			return nil, fmt.Errorf("key %s/%s: store: %w", scope, id, err)
		}
		// Another writer created it first: read theirs.
	}
	return nil, fmt.Errorf("key %s/%s: could not create or read it", scope, id)
}

// Destroy implements Keyring. It is idempotent.
func (k *JetStreamKeyring) Destroy(ctx context.Context, scope, id string) error {
	subject, err := keySubject(scope, id)
	if err != nil {
		return err
	}
	k.cache.Remove(subject)
	// Mark first: from now on nobody creates a new key under this name.
	m := nats.NewMsg(subject)
	m.Header.Set(headerErased, time.Now().UTC().Format(time.RFC3339))
	if _, err := k.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("erase key %s/%s: %w", scope, id, err)
	}
	// Then overwrite every earlier message of the subject on disk.
	for seq := uint64(1); ; {
		msg, err := k.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("erase key %s/%s: %w", scope, id, err)
		}
		if msg.Header.Get(headerErased) == "" {
			if err := k.stream.SecureDeleteMsg(ctx, msg.Sequence); err != nil {
				return fmt.Errorf("erase key %s/%s: secure delete: %w", scope, id, err)
			}
		}
		seq = msg.Sequence + 1
	}
}
