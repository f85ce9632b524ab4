package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
)

type sealedEvent struct {
	Description string `json:"description" sensitive:"signal"`
	Reporter    string `json:"reporter" sensitive:"reporter"`
	Category    string `json:"category"`
	Items       []struct {
		Text string `json:"text" sensitive:"signal"`
	} `json:"items"`
}

func TestSealAndUnsealRoundTripAndErasure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := jstest.StartIn(t, dir)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	kr, err := eventstore.OpenKeyring(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(scope, _ string) (string, bool) {
		switch scope {
		case "signal":
			return "sig-1", true
		case "reporter":
			return "rep-1", true
		}
		return "", false
	}
	e := sealedEvent{Description: "CANARY-7f3a tenfold dose", Reporter: "alice", Category: "medication"}
	e.Items = append(e.Items, struct {
		Text string `json:"text" sensitive:"signal"`
	}{Text: "CANARY-7f3a again"})
	if err := eventstore.Seal(ctx, kr, &e, ids); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.Description, "CANARY") || strings.Contains(e.Reporter, "alice") || strings.Contains(e.Items[0].Text, "CANARY") || e.Category != "medication" {
		t.Fatalf("not sealed: %+v", e)
	}
	sealed := e
	sealed.Items = append(sealed.Items[:0:0], e.Items...)
	opened, err := eventstore.Unseal(ctx, kr, &e)
	if err != nil || len(opened.Erased) != 0 || e.Description != "CANARY-7f3a tenfold dose" || e.Reporter != "alice" || e.Items[0].Text != "CANARY-7f3a again" {
		t.Fatalf("unseal: %+v %+v %v", e, opened, err)
	}
	// A sealed value moved into another key's field does not open.
	moved := sealed
	moved.Reporter = strings.Replace(sealed.Description, ":signal:sig-1:", ":reporter:rep-1:", 1)
	if _, err := eventstore.Unseal(ctx, kr, &moved); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("moved ciphertext: %v", err)
	}
	key, err := kr.Key(ctx, "signal", "sig-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Destroy(ctx, "signal", "sig-1"); err != nil {
		t.Fatal(err)
	}
	if err := kr.Destroy(ctx, "signal", "sig-1"); err != nil {
		t.Fatalf("a second destroy: %v", err)
	}
	again := sealed
	opened, err = eventstore.Unseal(ctx, kr, &again)
	if err != nil || again.Description != "" || again.Items[0].Text != "" || again.Reporter != "alice" || len(opened.Erased) != 1 || opened.Erased[0] != "signal" {
		t.Fatalf("after erasure: %+v %+v %v", again, opened, err)
	}
	// An erased key is never created again.
	if _, err := kr.Key(ctx, "signal", "sig-1", true); !errors.Is(err, eventstore.ErrKeyErased) {
		t.Fatalf("erased key re-created: %v", err)
	}
	// The key's bytes are gone from the server's files.
	srv.Shutdown()
	srv.WaitForShutdown()
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, key) {
				found = true
				t.Errorf("the destroyed key is still in %s", path)
			}
		}
		return nil
	})
	if found {
		t.Fatal("key bytes survive on disk")
	}
}

func TestKeyIsCreatedOnceUnderRaces(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	keys := make([][]byte, 10)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr, err := eventstore.OpenKeyring(ctx, js, 1) // separate caches, as replicas
			if err != nil {
				t.Error(err)
				return
			}
			keys[i], err = kr.Key(ctx, "signal", "shared", true)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("two writers made two keys for one name")
		}
	}
}

func TestSealRefusesAScopeWithoutKey(t *testing.T) {
	t.Parallel()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	kr, err := eventstore.OpenKeyring(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := sealedEvent{Description: "x", Reporter: "alice"}
	err = eventstore.Seal(context.Background(), kr, &e, func(scope, _ string) (string, bool) { return "s", scope == "signal" })
	if err == nil {
		t.Fatal("a sensitive field was left without a key")
	}
}
