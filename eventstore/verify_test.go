package eventstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
)

// TestVerifyFindsChangedBytes writes a log, changes one stored event's bytes
// in the server's block files on disk, restarts the server and expects the
// scan to point at exactly that commit.
func TestVerifyFindsChangedBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := jstest.StartIn(t, dir)
	_, js := srv.JetStream(t)
	ctx := context.Background()
	s, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var target uint64
	for i := range 20 {
		payload := fmt.Sprintf(`{"text":"entry-%02d"}`, i)
		res, err := s.Append(ctx, eventstore.AppendRequest{Aggregate: eventstore.Aggregate{Type: "thing", ID: fmt.Sprint("v", i)}, Events: []eventstore.Envelope{{Type: "T", SchemaVersion: 1, Data: []byte(payload)}}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			target = res.Sequence
		}
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || rep.Checked != 20 || len(rep.Findings) != 0 {
		t.Fatalf("intact log: %+v, %v", rep, err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	// Change "entry-07" to "entry-77" wherever the block files hold it.
	changed := 0
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".blk") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte("entry-07")) {
			changed++
			return os.WriteFile(path, bytes.ReplaceAll(data, []byte("entry-07"), []byte("entry-77")), 0o600)
		}
		return nil
	})
	if err != nil || changed == 0 {
		t.Fatalf("could not tamper with the store (%d files): %v", changed, err)
	}

	srv2 := jstest.StartIn(t, dir)
	_, js2 := srv2.JetStream(t)
	s2, err := eventstore.Open(ctx, js2, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rep, err = s2.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Sequence != target {
		t.Fatalf("want one finding at sequence %d, got %+v", target, rep)
	}
	t.Logf("finding: %+v", rep.Findings[0])
}
