package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrConflict is returned by Append when the aggregate moved on since the
// caller loaded it: another command was appended first. Nothing was written.
var ErrConflict = errors.New("concurrency conflict")

// Aggregate names one aggregate instance in the log.
type Aggregate struct {
	Type string
	ID   string
}

func (a Aggregate) String() string { return a.Type + "/" + a.ID }

// validate checks that the aggregate names are safe as subject tokens.
func (a Aggregate) validate() error {
	for _, part := range []struct{ what, v string }{{"aggregate type", a.Type}, {"aggregate id", a.ID}} {
		if part.v == "" {
			return fmt.Errorf("%s is empty", part.what)
		}
		if len(part.v) > 128 {
			return fmt.Errorf("%s %q is longer than 128 bytes", part.what, part.v)
		}
		if strings.ContainsAny(part.v, ".*> \t\r\n") {
			return fmt.Errorf("%s %q contains a character not allowed in a subject token", part.what, part.v)
		}
	}
	return nil
}

// AppendRequest is one atomic append: every event of one command.
type AppendRequest struct {
	Aggregate Aggregate
	// ExpectedSequence is the stream sequence of the aggregate's last
	// commit as the caller loaded it; 0 means the aggregate must not exist.
	ExpectedSequence uint64
	// MsgID, when set, lets the server drop a repeat of this append within
	// its duplicate window (the answer is then the first append's sequence).
	MsgID string
	// Events are appended in order. Their envelope fields are kept as given.
	Events []Envelope
}

// AppendResult says where a commit was stored.
type AppendResult struct {
	Sequence uint64
	// Duplicate is true when the server recognised MsgID and stored nothing.
	Duplicate bool
}

// Store is the event log as the command side uses it. JetStream implements
// it; storetest holds the contract every implementation must meet.
type Store interface {
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)
	Load(ctx context.Context, a Aggregate, after uint64) ([]Commit, error)
	Last(ctx context.Context, a Aggregate) (*Commit, error)
}
