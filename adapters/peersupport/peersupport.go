// Package peersupport carries out peer-support commands. A request is an
// aggregate of its own (peer_support), never part of a signal's history.
package peersupport

import (
	"time"

	"github.com/safesignal/safesignal/adapters/aggregates"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// Service decides and appends peer-support commands.
type Service = aggregates.Service[domain.PeerSupportRequest]

// New returns the service; now defaults to time.Now.
func New(log eventstore.Store, codec *projections.Codec, now func() time.Time) *Service {
	return aggregates.New(log, codec, now, aggregates.Kind[domain.PeerSupportRequest]{
		Type:    projections.AggregatePeerSupport,
		Decide:  domain.DecidePeerSupport,
		Evolve:  domain.EvolvePeerSupport,
		Version: func(r domain.PeerSupportRequest) int { return r.Version },
	})
}
