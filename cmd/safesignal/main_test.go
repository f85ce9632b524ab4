package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		{name: "no command", args: nil, wantErr: "no command"},
		{name: "unknown command", args: []string{"fly"}, wantErr: "unknown command"},
		{name: "version", args: []string{"version"}, wantOut: "safesignal"},
		{name: "serve refuses the local issuer in production", args: []string{"serve", "--production", "--data-dir", dir, "--http-addr", "127.0.0.1:0"}, wantErr: "production mode needs --oidc-issuer"},
		{name: "bad role map", args: []string{"serve", "--oidc-role-map", "x=root", "--data-dir", dir}, wantErr: "--oidc-role-map"},
		{name: "bad rate limit", args: []string{"serve", "--rate-limit", "0", "--data-dir", dir}, wantErr: "--rate-limit"},
		{name: "stray argument", args: []string{"serve", "now"}, wantErr: "unexpected argument"},
		{name: "token for a reporter", args: []string{"token", "--data-dir", dir, "--role", "reporter", "--org", "umc-utrecht"}, wantOut: "."},
		{name: "token without organisation", args: []string{"token", "--data-dir", dir, "--role", "safety_officer"}, wantErr: "needs an organisation"},
		{name: "token with unknown role", args: []string{"token", "--data-dir", dir, "--role", "root"}, wantErr: "unknown role"},
		{name: "import without --api", args: []string{"import", "x.csv"}, wantErr: "--api is required"},
		{name: "import without a token", args: []string{"import", "--api", "http://127.0.0.1:1", "x.csv"}, wantErr: "--token"},
		{name: "import with two files", args: []string{"import", "--api", "http://127.0.0.1:1", "--token", "t", "a.csv", "b.csv"}, wantErr: "unexpected argument"},
		{name: "import report of an unknown kind", args: []string{"import", "--api", "http://127.0.0.1:1", "--token", "t", "--report", "bad.txt", "a.csv"}, wantErr: "--report"},
		{name: "token ttl too long", args: []string{"token", "--data-dir", dir, "--ttl", "9999h"}, wantErr: "--ttl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errOut)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v (%s)", err, errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}

func TestEnvironmentFallback(t *testing.T) {
	t.Setenv("SAFESIGNAL_RATE_LIMIT", "abc")
	err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "SAFESIGNAL_RATE_LIMIT") {
		t.Fatalf("a malformed environment value was not reported: %v", err)
	}
}
