package main

import (
	"fmt"
	"io"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

// token prints a bearer token signed by the local issuer of --data-dir.
func token(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", stderr)
	dataDir := fs.String("data-dir", "./data", "data directory whose local issuer signs the token")
	role := fs.String("role", "reporter", "role: reporter, safety_officer, colleague, policy_analyst, peer_supporter or admin")
	org := fs.String("org", "", "organisation id (required for reporter, safety_officer and peer_supporter)")
	subject := fs.String("subject", "", "pseudonymous subject id (default: dev-ROLE)")
	specialty := fs.String("specialty", "", "specialty code (colleagues)")
	region := fs.String("region", "", "ISO 3166-2 region (colleagues, policy staff)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subject == "" {
		*subject = "dev-" + *role
	}
	if *ttl <= 0 || *ttl > 30*24*time.Hour {
		return usageError{"--ttl must be between 1s and 720h"}
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(*dataDir)
	if err != nil {
		return err
	}
	tok, err := issuer.Issue(auth.Principal{Subject: *subject, Role: auth.Role(*role), Organisation: *org, Specialty: *specialty, Region: *region}, *ttl)
	if err != nil {
		return usageError{err.Error()}
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
