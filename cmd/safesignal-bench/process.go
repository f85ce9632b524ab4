package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}

// serveProcess is a running `safesignal serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free address: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServe starts serve on dataDir with its embedded NATS (SyncAlways)
// and a per-client rate limit high enough not to throttle the bench, and
// waits until /readyz answers 200 (read models caught up).
func startServe(ctx context.Context, bin, dataDir string, readyWithin time.Duration) (*serveProcess, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--http-addr", addr, "--nats-listen", "",
		"--rate-limit", "1000000", "--rate-burst", "1000000", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start serve: %w", err)
	}
	p := &serveProcess{cmd: cmd, url: "http://" + addr, logs: &logs}
	deadline := time.Now().Add(readyWithin)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			p.stop()
			return nil, 0, ctx.Err()
		}
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(started), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, 0, fmt.Errorf("serve not ready within %s:\n%s", readyWithin, logs.String())
}

// stop sends SIGTERM and waits (the store is then closed cleanly).
func (p *serveProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// rssBytes reads VmRSS of the process from /proc.
func rssBytes(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("read RSS: unexpected line %q", line)
			}
			kb, err := strconv.ParseFloat(fields[0], 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS: %w", err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	return 0, fmt.Errorf("read RSS: no VmRSS line for pid %d", pid)
}

// token mints a bearer token with the local issuer of dataDir.
func token(ctx context.Context, bin, dataDir string, args ...string) (string, error) {
	out, err := command(ctx, bin, append([]string{"token", "--data-dir", dataDir}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
