// Package lessons carries out the commands of the lesson library. A lesson
// is an aggregate of its own (lesson).
package lessons

import (
	"time"

	"github.com/safesignal/safesignal/adapters/aggregates"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
)

// Service decides and appends lesson commands.
type Service = aggregates.Service[domain.Lesson]

// New returns the service; now defaults to time.Now.
func New(log eventstore.Store, codec *projections.Codec, now func() time.Time) *Service {
	return aggregates.New(log, codec, now, aggregates.Kind[domain.Lesson]{
		Type:    projections.AggregateLesson,
		Decide:  domain.DecideLesson,
		Evolve:  domain.EvolveLesson,
		Version: func(l domain.Lesson) int { return l.Version },
	})
}
