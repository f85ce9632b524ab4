package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/eventstore"
)

// node is one nats-server of a three-node cluster on loopback, restartable
// on the same ports and store directory.
type node struct {
	name        string
	port, route int
	dir         string
	srv         *server.Server
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (n *node) start(t *testing.T, routes []string) {
	t.Helper()
	opts := &server.Options{
		ServerName: n.name, Host: "127.0.0.1", Port: n.port,
		JetStream: true, StoreDir: n.dir, SyncAlways: true, NoSigs: true, NoLog: true,
		Cluster: server.ClusterOpts{Name: "safesignal-test", Host: "127.0.0.1", Port: n.route},
		Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		t.Fatalf("%s not ready", n.name)
	}
	n.srv = srv
}

func (n *node) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// TestClusterFailover runs the real service on a three-node JetStream
// cluster with every stream replicated three times, files signals while
// the stream leader and then a follower are killed, brings them back, and
// checks that every filing that got a 201 is readable and in the log
// exactly once, and that no signal exists that no client sent.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	t.Parallel()
	nodes := make([]*node, 3)
	var routes, urls []string
	for i := range nodes {
		nodes[i] = &node{name: fmt.Sprint("n", i+1), port: freePort(t), route: freePort(t), dir: filepath.Join(t.TempDir(), "js")}
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", nodes[i].route))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", nodes[i].port))
	}
	for _, n := range nodes {
		n.start(t, routes)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop()
		}
	})
	url := strings.Join(urls, ",")
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := js.AccountInfo(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster's JetStream never came up")
		}
		time.Sleep(100 * time.Millisecond)
	}

	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startServeWith(t, bin, dataDir, "--nats-url", url, "--nats-replicas", "3")
	token := tokenFor(t, bin, dataDir, "--role", "reporter", "--org", "haukeland", "--subject", "cluster-tester")

	stream, err := js.Stream(ctx, eventstore.DefaultConfig().Stream)
	if err != nil {
		t.Fatal(err)
	}
	if r := stream.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("the event stream has %d replicas", r)
	}
	leader := func() *node {
		info, err := stream.Info(ctx)
		if err != nil || info.Cluster == nil {
			return nil
		}
		for _, n := range nodes {
			if n.name == info.Cluster.Leader {
				return n
			}
		}
		return nil
	}

	const clients, perClient = 16, 25
	client := &http.Client{Timeout: 30 * time.Second}
	ids := make([][]string, clients)
	var created atomic.Int64
	var wg sync.WaitGroup
	// stop ends the clients when the test gives up, so that no client
	// outlives it.
	stop := make(chan struct{})
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				key := fmt.Sprintf("c%d-%d", c, i)
				for attempt := 0; ; attempt++ {
					select {
					case <-stop:
						return
					default:
					}
					o, err := file(client, p.url, token, key, "marker-"+key+"-end")
					if err == nil && o.status == http.StatusCreated {
						ids[c] = append(ids[c], o.id)
						created.Add(1)
						break
					}
					if attempt > 400 {
						t.Errorf("filing %s never succeeded: %+v %v", key, o, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}

	// Kill the stream leader once filings run, then a follower. Every
	// wait has a deadline: a stalled cluster fails the test, saying where,
	// instead of hanging it.
	giveUp := func(format string, args ...any) {
		t.Helper()
		close(stop)
		wg.Wait()
		t.Logf("serve's log, last 8 KiB:\n%s", lastBytes(p.logs.String(), 8<<10))
		t.Fatalf(format, args...)
	}
	waitCreated := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Minute); created.Load() < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				giveUp("only %d of %d filings acknowledged after 3 minutes", created.Load(), n)
			}
		}
	}
	waitCreated(clients * perClient / 4)
	var killedLeader *node
	for deadline := time.Now().Add(time.Minute); killedLeader == nil; time.Sleep(50 * time.Millisecond) {
		if killedLeader = leader(); killedLeader == nil && time.Now().After(deadline) {
			giveUp("the event stream has no leader after a minute")
		}
	}
	killedLeader.stop()
	t.Logf("killed the stream leader %s after %d filings", killedLeader.name, created.Load())
	waitCreated(clients * perClient / 2)
	var follower *node
	for _, n := range nodes {
		if n.srv != nil && n != leader() {
			follower = n
			break
		}
	}
	if follower != nil {
		follower.stop()
		t.Logf("killed follower %s after %d filings", follower.name, created.Load())
		killedLeader.start(t, routes) // two of three again: quorum back
	}
	wg.Wait()
	if t.Failed() {
		t.Logf("serve's log, last 8 KiB:\n%s", lastBytes(p.logs.String(), 8<<10))
	}
	if follower != nil {
		follower.start(t, routes)
	} else {
		killedLeader.start(t, routes)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every acknowledged filing is readable.
	for _, list := range ids {
		for _, id := range list {
			// The projector resumes on a new consumer leader after the
			// failover; under the race detector on a loaded machine
			// that can take many seconds, so wait on a deadline and say
			// what the log and consumers looked like if it never comes.
			readable := false
			for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
				status, _ := call(t, http.MethodGet, p.url+"/api/v1/signals/"+id, token, nil)
				if status == http.StatusOK {
					readable = true
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !readable {
				info, err := stream.Info(ctx)
				if err == nil {
					t.Logf("stream: %+v leader %s", info.State, info.Cluster.Leader)
				}
				for name := range stream.ConsumerNames(ctx).Name() {
					if ci, err := stream.Consumer(ctx, name); err == nil {
						c := ci.CachedInfo()
						t.Logf("consumer %s: delivered %+v ack floor %+v pending %d ack pending %d", name, c.Delivered, c.AckFloor, c.NumPending, c.NumAckPending)
					}
				}
				t.Fatalf("signal %s got a 201 but is not readable after 90 s", id)
			}
		}
	}
	// The log holds each filing once, and nothing else.
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if subjects[msg.Subject] {
			t.Fatalf("%s has two reports", msg.Subject)
		}
		subjects[msg.Subject] = true
	}
	if len(subjects) != clients*perClient {
		t.Fatalf("the log holds %d signals, clients filed %d", len(subjects), clients*perClient)
	}
	for _, list := range ids {
		for _, id := range list {
			if !subjects["safesignal.events.signal."+id] {
				t.Fatalf("signal %s is not in the log", id)
			}
		}
	}
	t.Logf("%d filings, each in the log once (last sequence %s)", clients*perClient, strconv.FormatUint(info.State.LastSeq, 10))
}

// lastBytes is the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
