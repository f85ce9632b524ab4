package natsserver_test

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDeployConfigsParse checks every NATS config under deploy/ with the
// server's own parser (what `nats-server -t -c FILE` does), and that each
// keeps the durability setting.
func TestDeployConfigsParse(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../deploy/nats/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no NATS configs found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			opts, err := server.ProcessConfigFile(f)
			if err != nil {
				t.Fatalf("config does not parse: %v", err)
			}
			if !opts.JetStream || !opts.SyncAlways {
				t.Fatalf("config lacks JetStream with sync_interval: always (jetstream=%v syncAlways=%v)", opts.JetStream, opts.SyncAlways)
			}
		})
	}
}
