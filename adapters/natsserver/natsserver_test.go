package natsserver_test

import (
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/natsserver"
)

func TestStartRefusesNonLoopbackListen(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:4222", "10.0.0.1:4222", ":4222", "example.org:4222", "127.0.0.1:http", "127.0.0.1:70000"} {
		if s, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), Listen: addr}); err == nil {
			s.Shutdown()
			t.Errorf("listen %q was accepted", addr)
		}
	}
}

func TestStartInProcessAndLoopback(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"", "127.0.0.1:0"} {
		s, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), Listen: listen, SyncAlways: true})
		if err != nil {
			t.Fatalf("start with listen %q: %v", listen, err)
		}
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		if !nc.IsConnected() {
			t.Fatal("not connected")
		}
		if got := s.ClientURL(); (listen == "") != (got == "") || (got != "" && !strings.HasPrefix(got, "nats://127.0.0.1:")) {
			t.Errorf("listen %q: client URL %q", listen, got)
		}
		nc.Close()
		s.Shutdown()
	}
}
