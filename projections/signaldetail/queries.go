package signaldetail

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

// TriageFilter selects and orders a safety officer's triage board.
type TriageFilter struct {
	Statuses   []domain.Status
	Kinds      []domain.Kind
	Harms      []domain.Harm
	Categories []domain.Category
	// Overdue keeps only signals whose regulatory deadline has passed
	// without a recorded notification.
	Overdue bool
	// DeadlinePending keeps only signals with a deadline still to meet.
	DeadlinePending bool
	// Sort is one of TriageSorts(); default "-reported" (newest first).
	Sort   string
	Limit  int
	Offset int
}

// TriageSorts lists the orders the triage board offers; a leading '-' is
// descending.
func TriageSorts() []string {
	return []string{"reported", "-reported", "harm", "-harm", "deadline", "-deadline", "updated", "-updated"}
}

// TriageRow is one line of the triage board.
type TriageRow struct {
	ID                uuid.UUID        `json:"id"`
	Version           int              `json:"version"`
	Status            domain.Status    `json:"status"`
	Kind              domain.Kind      `json:"kind"`
	Category          domain.Category  `json:"category"`
	Harm              domain.Harm      `json:"harm"`
	Specialty         domain.Specialty `json:"specialty"`
	ReportedAt        time.Time        `json:"reportedAt"`
	UpdatedAt         time.Time        `json:"updatedAt"`
	AgeSeconds        int64            `json:"ageSeconds"`
	AcknowledgedAt    *time.Time       `json:"acknowledgedAt,omitempty"`
	TimeToAcknowledge *int64           `json:"timeToAcknowledgeSeconds,omitempty"`
	DeadlineDueAt     *time.Time       `json:"deadlineDueAt,omitempty"`
	DeadlineOverdue   bool             `json:"deadlineOverdue"`
	Escalations       int              `json:"escalations"`
	OpenEscalations   int              `json:"openEscalations"`
	PeerSupport       bool             `json:"peerSupportRequested"`
}

// TriageRowOf builds the board's line for a signal at time now.
func TriageRowOf(v View, now time.Time) TriageRow {
	r := TriageRow{
		ID: v.ID, Version: v.Version, Status: v.Status, Kind: v.Kind, Category: v.Category, Harm: v.Harm,
		Specialty: v.Specialty, ReportedAt: v.ReportedAt, UpdatedAt: v.UpdatedAt,
		AgeSeconds: int64(now.Sub(v.ReportedAt).Seconds()), PeerSupport: v.PeerSupportRequested,
		Escalations: len(v.Escalations), DeadlineOverdue: v.Regulatory.Overdue(now),
	}
	if !v.AcknowledgedAt.IsZero() {
		at := v.AcknowledgedAt
		d := int64(at.Sub(v.ReportedAt).Seconds())
		r.AcknowledgedAt, r.TimeToAcknowledge = &at, &d
	}
	if v.Regulatory.Pending() {
		due := v.Regulatory.DueAt
		r.DeadlineDueAt = &due
	}
	for _, e := range v.Escalations {
		if e.State() == domain.EscalationStateOpen {
			r.OpenEscalations++
		}
	}
	return r
}

func (f TriageFilter) match(v View, now time.Time) bool {
	return (len(f.Statuses) == 0 || slices.Contains(f.Statuses, v.Status)) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, v.Kind)) &&
		(len(f.Harms) == 0 || slices.Contains(f.Harms, v.Harm)) &&
		(len(f.Categories) == 0 || slices.Contains(f.Categories, v.Category)) &&
		(!f.Overdue || v.Regulatory.Overdue(now)) &&
		(!f.DeadlinePending || v.Regulatory.Pending())
}

func sortTriage(rows []TriageRow, by string) {
	if by == "" {
		by = "-reported"
	}
	desc := by[0] == '-'
	key := by
	if desc {
		key = by[1:]
	}
	slices.SortStableFunc(rows, func(a, b TriageRow) int {
		var c int
		switch key {
		case "harm":
			c = cmp.Compare(a.Harm.Rank(), b.Harm.Rank())
		case "deadline":
			// Signals without a pending deadline come last either way.
			switch {
			case a.DeadlineDueAt == nil && b.DeadlineDueAt == nil:
			case a.DeadlineDueAt == nil:
				return 1
			case b.DeadlineDueAt == nil:
				return -1
			default:
				c = a.DeadlineDueAt.Compare(*b.DeadlineDueAt)
			}
		case "updated":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		default:
			c = a.ReportedAt.Compare(b.ReportedAt)
		}
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.ID.String(), b.ID.String())
		}
		return c
	})
}

// ExportFilter selects the signals of a bulk export. Empty lists and zero
// times select everything.
type ExportFilter struct {
	Statuses   []domain.Status
	Kinds      []domain.Kind
	Harms      []domain.Harm
	Categories []domain.Category
	// ReportedFrom (inclusive) and ReportedTo (exclusive) bound when the
	// signal was reported.
	ReportedFrom time.Time
	ReportedTo   time.Time
}

func (f ExportFilter) match(v View) bool {
	return (len(f.Statuses) == 0 || slices.Contains(f.Statuses, v.Status)) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, v.Kind)) &&
		(len(f.Harms) == 0 || slices.Contains(f.Harms, v.Harm)) &&
		(len(f.Categories) == 0 || slices.Contains(f.Categories, v.Category)) &&
		(f.ReportedFrom.IsZero() || !v.ReportedAt.Before(f.ReportedFrom)) &&
		(f.ReportedTo.IsZero() || v.ReportedAt.Before(f.ReportedTo))
}

// EscalationItem is an escalation as its recipients see it: what the
// escalating organisation wrote for them, never the signal's own text or
// its reporter.
type EscalationItem struct {
	SignalID     uuid.UUID                 `json:"signalId"`
	Version      int                       `json:"version"`
	EscalationID uuid.UUID                 `json:"escalationId"`
	From         string                    `json:"fromOrganisation"`
	FromRegion   string                    `json:"fromRegion"`
	Specialty    domain.Specialty          `json:"specialty"`
	Kind         domain.Kind               `json:"kind"`
	Category     domain.Category           `json:"category"`
	Harm         domain.Harm               `json:"harm"`
	Message      string                    `json:"message"`
	Summary      string                    `json:"summary"`
	EscalatedAt  time.Time                 `json:"escalatedAt"`
	State        domain.EscalationState    `json:"state"`
	Mine         *domain.EscalationReceipt `json:"myAnswer,omitempty"`
	Answers      int                       `json:"answers"`
}

// ServiceLevels are an organisation's response times.
type ServiceLevels struct {
	Organisation string `json:"organisation"`
	Signals      int    `json:"signals"`
	Acknowledged int    `json:"acknowledged"`
	// Medians in seconds; nil when no signal has reached the step.
	MedianSecondsToAcknowledge   *int64 `json:"medianSecondsToAcknowledge"`
	WithFeedback                 int    `json:"withFeedback"`
	MedianSecondsToFirstFeedback *int64 `json:"medianSecondsToFirstFeedback"`
}

// Median is the median of ds in whole seconds, or nil for none.
func Median(ds []time.Duration) *int64 {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	s := int64(m.Seconds())
	return &s
}

// Kinds of DueItem.
const (
	DueEscalation = "escalation"
	DueDeadline   = "deadline"
)

// DueItem is something a reminder is due for.
type DueItem struct {
	Kind       string
	Signal     View
	Escalation domain.Escalation
}
