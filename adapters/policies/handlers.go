package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/projections"
	"go.uber.org/zap"
)

// Handler names, which are also their durable consumers' names.
const (
	RulesHandler         = "policy_escalation_rules"
	NotificationsHandler = "policy_notifications"
)

// actorPrefix marks events caused by a policy rather than a person.
const actorPrefix = "policy:"

// ruleNamespace derives a rule's escalation id from the rule and signal,
// so that a redelivered trigger finds its escalation and does nothing.
func ruleNamespace() uuid.UUID { return uuid.MustParse("0d2b7f64-5c35-5a51-a1a2-9e0c3c5f0002") }

// Reactions holds what the handlers need.
type Reactions struct {
	Commands *commands.Service
	Codec    *projections.Codec
	Config   Config
	Notifier Notifier
	Logger   *zap.Logger
}

func (x *Reactions) decode(msg *message.Message) ([]projections.Event, error) {
	envs, err := eventstore.DecodeCommit(msg.Payload, msg.Metadata.Get(MetaDigest))
	if err != nil {
		return nil, err
	}
	seq := msg.Metadata.Get(MetaSequence)
	events, err := x.Codec.Decode(msg.Context(), eventstore.Commit{Subject: msg.Metadata.Get(MetaSubject), Events: envs})
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", seq, err)
	}
	return events, nil
}

// Handlers returns the policy handlers the configuration calls for.
func (x *Reactions) Handlers() []Handler {
	var hs []Handler
	if len(x.Config.Rules) > 0 {
		hs = append(hs, Handler{Name: RulesHandler, Handle: x.applyRules})
	}
	if x.Notifier != nil {
		hs = append(hs, Handler{Name: NotificationsHandler, Handle: x.notify})
	}
	return hs
}

// applyRules escalates a signal that a rule covers once it is
// acknowledged or reclassified. The escalation id comes from the rule and
// the signal, so a repeat of the trigger changes nothing.
func (x *Reactions) applyRules(msg *message.Message) error {
	events, err := x.decode(msg)
	if err != nil {
		return err
	}
	ctx := msg.Context()
	for _, e := range events {
		switch e.Data.(type) {
		case domain.SignalAcknowledged, domain.SignalClassified:
		default:
			continue
		}
		id, err := uuid.Parse(e.Envelope.AggregateID)
		if err != nil {
			return fmt.Errorf("signal id %q: %w", e.Envelope.AggregateID, err)
		}
		if err := x.escalateByRules(ctx, id, msg.Metadata.Get("correlation_id")); err != nil {
			return err
		}
	}
	return nil
}

func (x *Reactions) escalateByRules(ctx context.Context, id uuid.UUID, correlation string) error {
	s, err := x.Commands.State(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range x.Config.Rules {
		if !r.matches(s) || s.Status != domain.StatusAcknowledged {
			continue
		}
		escID := uuid.NewSHA1(ruleNamespace(), []byte(r.ID+"/"+id.String()))
		if _, done := s.Escalation(escID); done {
			continue
		}
		cmd := domain.EscalateSignal{
			EscalationID: escID,
			Targets:      r.targets(s),
			Message:      r.Message,
			Summary:      ruleSummary(s),
			At:           x.Commands.Now().UTC(),
		}
		_, err := x.Commands.Execute(ctx, id, nil, cmd, commands.Meta{
			Actor: actorPrefix + r.ID, Caller: actorPrefix + r.ID, CorrelationID: correlation, IdempotencyKey: "rule:" + r.ID,
		})
		var te *domain.TransitionError
		var ve *domain.ValidationError
		switch {
		case err == nil:
			x.Logger.Info("rule escalated a signal", zap.String("rule", r.ID), zap.String("signal", id.String()))
		case errors.As(err, &te):
			// The signal moved on (closed, rejected): nothing to do.
			x.Logger.Info("rule did not escalate", zap.String("rule", r.ID), zap.String("signal", id.String()), zap.String("reason", te.Error()))
		case errors.As(err, &ve):
			// The rule cannot produce a valid escalation for this signal:
			// a configuration error that retrying will not mend.
			x.Logger.Error("rule produced an invalid escalation", zap.String("rule", r.ID), zap.Error(err))
		default:
			return fmt.Errorf("rule %s on signal %s: %w", r.ID, id, err)
		}
	}
	return nil
}

// ruleSummary is what colleagues read of an automatically escalated
// signal: its classification, never its text.
func ruleSummary(s domain.Signal) string {
	return fmt.Sprintf("Automatic escalation: a %s in %s (%s), harm %s, in %s (%s).",
		strings.ReplaceAll(string(s.Kind), "_", " "), strings.ReplaceAll(string(s.Category), "_", " "),
		strings.ReplaceAll(string(s.Specialty), "_", " "), s.Harm, s.Organisation, s.Region)
}

// notify tells the configured receivers about escalations.
func (x *Reactions) notify(msg *message.Message) error {
	events, err := x.decode(msg)
	if err != nil {
		return err
	}
	ctx := msg.Context()
	for _, e := range events {
		esc, ok := e.Data.(domain.SignalEscalated)
		if !ok {
			continue
		}
		s, err := x.Commands.State(ctx, esc.SignalID)
		if err != nil {
			return err
		}
		kind := KindEscalated
		if strings.HasPrefix(e.Envelope.Actor, actorPrefix) {
			kind = KindRuleEscalated
		}
		n := Notification{
			ID: "escalated:" + esc.EscalationID.String(), Kind: kind, SignalID: esc.SignalID,
			Organisation: s.Organisation, Region: s.Region, Specialty: string(s.Specialty),
			Category: string(s.Category), Harm: string(s.Harm), EscalationID: esc.EscalationID.String(),
			Targets: esc.Targets, Message: esc.Message, Summary: esc.Summary, At: esc.EscalatedAt,
		}
		if err := x.Notifier.Notify(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
