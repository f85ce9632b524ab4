package policies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"go.uber.org/zap"
)

// RemindersBucket is the JetStream key-value bucket that records each
// reminder: "pending" once claimed, "sent" once delivered. Creating a key
// succeeds once, so a reminder is claimed once across restarts and
// replicas; a claim left pending by a crash is delivered again, with the
// same notification id, on the next round.
const RemindersBucket = "safesignal_reminders"

const (
	reminderPending = "pending"
	reminderSent    = "sent"
)

// DueSource finds what needs a reminder (the signal read model).
type DueSource interface {
	Due(ctx context.Context, escalatedBefore, dueBefore time.Time) ([]signaldetail.DueItem, error)
}

// Scheduler sends reminders for unacknowledged escalations and coming
// regulatory deadlines. Its state is the log (through the read model) and
// the reminders bucket, so it survives restarts: nothing is lost or sent
// twice under different ids.
type Scheduler struct {
	due      DueSource
	kv       jetstream.KeyValue
	notifier Notifier
	cfg      Reminders
	now      func() time.Time
	logger   *zap.Logger
}

// NewScheduler opens the reminders bucket.
func NewScheduler(ctx context.Context, js jetstream.JetStream, due DueSource, notifier Notifier, cfg Reminders, replicas int, logger *zap.Logger) (*Scheduler, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      RemindersBucket,
		Description: "Safesignal reminders claimed and sent",
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("reminders bucket: %w", err)
	}
	if cfg.Every.Duration == 0 {
		cfg.Every.Duration = 30 * time.Second
	}
	return &Scheduler{due: due, kv: kv, notifier: notifier, cfg: cfg, now: time.Now, logger: logger}, nil
}

// Run sends due reminders every cfg.Every until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Every.Duration)
	defer t.Stop()
	for {
		if err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("reminder round failed; next round retries", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Round sends every reminder that is due now and not sent yet.
func (s *Scheduler) Round(ctx context.Context) error {
	now := s.now()
	escalatedBefore, dueBefore := time.Time{}, time.Time{}
	if s.cfg.EscalationUnacknowledged.Duration > 0 {
		escalatedBefore = now.Add(-s.cfg.EscalationUnacknowledged.Duration)
	}
	if s.cfg.DeadlineAhead.Duration > 0 {
		dueBefore = now.Add(s.cfg.DeadlineAhead.Duration)
	}
	items, err := s.due.Due(ctx, escalatedBefore, dueBefore)
	if err != nil {
		return fmt.Errorf("reminders: %w", err)
	}
	var errs []error
	for _, it := range items {
		if err := s.remind(ctx, it, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) remind(ctx context.Context, it signaldetail.DueItem, now time.Time) error {
	v := it.Signal
	n := Notification{
		SignalID: v.ID, Organisation: v.Organisation, Region: v.Region, Specialty: string(v.Specialty),
		Category: string(v.Category), Harm: string(v.Harm), At: now.UTC(),
	}
	var key string
	switch it.Kind {
	case signaldetail.DueEscalation:
		key = "escalation." + it.Escalation.ID.String()
		n.Kind, n.EscalationID = KindEscalationReminder, it.Escalation.ID.String()
		n.Targets, n.Message, n.Summary = it.Escalation.Targets, it.Escalation.Message, it.Escalation.Summary
	case signaldetail.DueDeadline:
		key = "deadline." + v.ID.String() + "." + strconv.FormatInt(v.Regulatory.DueAt.Unix(), 10)
		n.Kind, n.DueAt = KindDeadlineReminder, v.Regulatory.DueAt
		n.Message = fmt.Sprintf("%s notification to %s is due", v.Regulatory.Notification, v.Regulatory.Regulator)
	default:
		return nil
	}
	n.ID = "reminder:" + key
	rev, err := s.kv.Create(ctx, key, []byte(reminderPending))
	if errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := s.kv.Get(ctx, key)
		if gerr != nil {
			return fmt.Errorf("reminder %s: %w", key, gerr)
		}
		if string(e.Value()) == reminderSent {
			return nil
		}
		rev = e.Revision() // claimed before a crash: deliver again
	} else if err != nil {
		return fmt.Errorf("reminder %s: claim: %w", key, err)
	}
	if err := s.notifier.Notify(ctx, n); err != nil {
		return fmt.Errorf("reminder %s: %w", key, err)
	}
	if _, err := s.kv.Update(ctx, key, []byte(reminderSent), rev); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("reminder %s: mark sent: %w", key, err)
	}
	s.logger.Info("reminder sent", zap.String("kind", n.Kind), zap.String("signal", v.ID.String()))
	return nil
}
