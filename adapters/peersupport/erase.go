package peersupport

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections"
)

// EraseRequester erases a person (GDPR Art. 17) from each given request
// they made: it destroys the request's own data key, so the contact and
// message are unrecoverable from the log, then appends
// PeerSupportRequesterErased, so the read models blank the requester, the
// contact and the message now, without a rebuild. Requests the log shows
// to be someone else's, or erased already, are skipped. The caller then
// destroys the person's key, which seals the requester's name.
//
// The key goes first: a repeat after a crash between the two steps still
// finds the request by its requester and finishes the job. It returns how
// many requests were erased and the stream sequence of the last erasure
// (zero when none).
func EraseRequester(ctx context.Context, svc *Service, subject string, ids []uuid.UUID, actor, correlationID string) (int, uint64, error) {
	n, last := 0, uint64(0)
	for _, id := range ids {
		r, _, err := svc.Load(ctx, id)
		if err != nil {
			return n, last, fmt.Errorf("erase requester of %s: %w", id, err)
		}
		if !r.Exists() || r.RequesterErased || subject == "" || r.Requester != subject {
			continue
		}
		if err := svc.Keyring().Destroy(ctx, projections.ScopeSignal, id.String()); err != nil {
			return n, last, fmt.Errorf("erase requester of %s: %w", id, err)
		}
		res, err := svc.Execute(ctx, id, domain.ErasePeerSupportRequester{At: svc.Now().UTC()}, actor, correlationID)
		if err != nil {
			return n, last, fmt.Errorf("erase requester of %s: %w", id, err)
		}
		n, last = n+1, res.Sequence
	}
	return n, last, nil
}

// EraseSupporter erases a person from each given request they
// acknowledged as supporter: it appends PeerSupportSupporterErased, so the
// read models blank their name now; when the first contact was made stays.
// Requests someone else acknowledged, or whose supporter was erased
// already, are skipped. The caller then destroys the person's key, which
// seals the supporter's name in the log. It returns how many requests
// were changed and the stream sequence of the last change (zero when
// none).
func EraseSupporter(ctx context.Context, svc *Service, subject string, ids []uuid.UUID, actor, correlationID string) (int, uint64, error) {
	n, last := 0, uint64(0)
	for _, id := range ids {
		r, _, err := svc.Load(ctx, id)
		if err != nil {
			return n, last, fmt.Errorf("erase supporter of %s: %w", id, err)
		}
		if !r.Exists() || r.SupporterErased || subject == "" || r.AcknowledgedBy != subject {
			continue
		}
		res, err := svc.Execute(ctx, id, domain.ErasePeerSupporter{At: svc.Now().UTC()}, actor, correlationID)
		if err != nil {
			return n, last, fmt.Errorf("erase supporter of %s: %w", id, err)
		}
		n, last = n+1, res.Sequence
	}
	return n, last, nil
}
