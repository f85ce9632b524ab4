// Package natsserver runs the NATS server with JetStream inside the
// Safesignal process: the embedded default, so that nothing else has to be
// installed. Production deployments point --nats-url at a cluster instead.
package natsserver

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configures the embedded server.
type Options struct {
	// StoreDir is where JetStream keeps its file store.
	StoreDir string
	// Listen is host:port for client connections. The host must be a
	// loopback address; port 0 picks a free port. Empty: no listener at
	// all, in-process connections only.
	Listen string
	// SyncAlways fsyncs every write before it is acknowledged. Without it
	// nats-server fsyncs every two minutes and a power loss can lose
	// acknowledged events.
	SyncAlways bool
	// ServerName names the server in logs and cluster metadata.
	ServerName string
}

// Server is a running embedded nats-server.
type Server struct {
	ns *server.Server
}

// Start starts the server and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("start embedded NATS: a store directory is required")
	}
	so := &server.Options{
		ServerName:         opts.ServerName,
		JetStream:          true,
		StoreDir:           filepath.Clean(opts.StoreDir),
		SyncAlways:         opts.SyncAlways,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: -1,
		JetStreamMaxStore:  -1,
	}
	if so.ServerName == "" {
		so.ServerName = "safesignal-embedded"
	}
	if opts.Listen == "" {
		so.DontListen = true
	} else {
		host, portText, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS: listen address %q: %w", opts.Listen, err)
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("start embedded NATS: listen address %q is not a loopback address", opts.Listen)
		}
		port, err := strconv.Atoi(portText)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("start embedded NATS: listen port %q is not a port number", portText)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		so.Host, so.Port = host, port
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("start embedded NATS: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("start embedded NATS: not ready for connections within 30s")
	}
	return &Server{ns: ns}, nil
}

// Connect opens an in-process client connection (no network round trip).
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Name("safesignal")}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL is the URL other processes on this machine can connect to, or
// "" when the server does not listen.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Shutdown stops the server and waits until it has stopped.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
