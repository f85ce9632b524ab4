package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// EraseSignal erases a signal's free text (GDPR Art. 17): it appends
// SignalContentErased, so read models drop the text now, then destroys the
// signal's data key, so the text is unrecoverable from the log, rebuilt
// read models and backups of the log alike. It is idempotent: a repeat
// after a crash between the two steps finishes the job.
func (s *Service) EraseSignal(ctx context.Context, id uuid.UUID, meta Meta) error {
	st, err := s.State(ctx, id)
	if err != nil {
		return err
	}
	if !st.Exists() {
		return fmt.Errorf("erase %s: %w", id, domain.ErrNotFound)
	}
	if !st.ContentErased {
		if _, err := s.Execute(ctx, id, nil, domain.EraseContent{At: s.now().UTC()}, meta); err != nil {
			return err
		}
	}
	s.cache.Remove(id)
	if err := s.codec.Keyring().Destroy(ctx, projections.ScopeSignal, id.String()); err != nil {
		return fmt.Errorf("erase %s: %w", id, err)
	}
	return nil
}

// EraseReporter erases a person's identity: from every given signal that
// names them as reporter (ReporterIdentityErased), then their data key,
// which also empties every envelope actor sealed with it. It returns how
// many signals named them.
func (s *Service) EraseReporter(ctx context.Context, subject string, signals []uuid.UUID, meta Meta) (int, error) {
	n := 0
	for _, id := range signals {
		st, err := s.State(ctx, id)
		if err != nil {
			return n, err
		}
		if st.Reporter != subject {
			continue
		}
		if _, err := s.Execute(ctx, id, nil, domain.EraseReporter{At: s.now().UTC()}, meta); err != nil {
			return n, err
		}
		s.cache.Remove(id)
		n++
	}
	if err := s.codec.Keyring().Destroy(ctx, projections.ScopeReporter, s.codec.PersonKeyID(subject)); err != nil {
		return n, fmt.Errorf("erase reporter: %w", err)
	}
	return n, nil
}
