// Command safesignal is the Safesignal service: patient-safety signals as
// immutable events on NATS JetStream, with read models built from the log.
//
// Usage:
//
//	safesignal serve [flags]    run the service (the main job)
//	safesignal token [flags]    print a bearer token of the local issuer
//	safesignal verify [flags]   check the log's integrity
//	safesignal import [flags] FILE  import a CSV file of signals through the API
//	safesignal version          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "safesignal:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.As(err, new(usageError)) {
		return 2
	}
	if errors.As(err, new(rowsLeftOut)) {
		return 3
	}
	return 1
}

const usage = `Safesignal: patient-safety signals and incident reporting.

Usage:
  safesignal serve [flags]   run the service (HTTP API on --http-addr)
  safesignal token [flags]   print a bearer token signed by the local issuer
  safesignal verify [flags]  check every stored event against its digest
  safesignal seed [flags]    fill a data directory of its own with synthetic signals
  safesignal erase [flags]   erase a signal's text or a reporter's identity (crypto-shredding)
  safesignal backup [flags]  write the log, keyring and audit trail to a file
  safesignal restore [flags] recreate them from a backup on an empty server
  safesignal import [flags] FILE
                             send a CSV file of signals to a running service's
                             import API (exit 3 when rows were left out)
  safesignal migrate [flags] bring the read-model database's schema up to date
  safesignal replay [flags]  rebuild the PostgreSQL read models from the log
  safesignal version         print the version

Run 'safesignal COMMAND -h' for the flags of a command. Every flag can also
be set in the environment as SAFESIGNAL_<FLAG> (e.g. SAFESIGNAL_HTTP_ADDR).
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "verify":
		return verify(ctx, args[1:], stdout, stderr)
	case "seed":
		return seed(ctx, args[1:], stdout, stderr)
	case "erase":
		return erase(ctx, args[1:], stdout, stderr)
	case "backup":
		return backup(ctx, args[1:], stdout, stderr)
	case "restore":
		return restore(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "replay":
		return replay(ctx, args[1:], stdout, stderr)
	case "import":
		return importSignals(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "safesignal", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
}
