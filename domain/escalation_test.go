package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

func escalate(mod func(*domain.EscalateSignal)) domain.EscalateSignal {
	e := escalated()
	c := domain.EscalateSignal{EscalationID: e.EscalationID, Targets: e.Targets, Message: e.Message, Summary: e.Summary, At: e.EscalatedAt}
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestEscalate(t *testing.T) {
	t.Parallel()
	runSpecs(t, []spec{
		{
			name:  "an acknowledged signal is escalated to a specialty network-wide",
			given: history(acknowledged()),
			when:  escalate(nil),
			then:  []domain.Event{escalated()},
		},
		{
			name:  "to a specialty in some regions and countries, narrowed to organisations",
			given: history(acknowledged()),
			when: escalate(func(c *domain.EscalateSignal) {
				c.Targets = domain.EscalationTargets{
					Specialties:   []domain.Specialty{"anaesthesiology", "intensive_care"},
					Regions:       []string{"NL-ZH", "NO"},
					Organisations: []string{"erasmus-mc", "haukeland"},
				}
			}),
			then: []domain.Event{func() domain.Event {
				e := escalated()
				e.Targets = domain.EscalationTargets{
					Specialties:   []domain.Specialty{"anaesthesiology", "intensive_care"},
					Regions:       []string{"NL-ZH", "NO"},
					Organisations: []string{"erasmus-mc", "haukeland"},
				}
				return e
			}()},
		},
		{
			name:  "empty target lists are recorded as absent",
			given: history(acknowledged()),
			when: escalate(func(c *domain.EscalateSignal) {
				c.Targets.Regions, c.Targets.Organisations = []string{}, []string{}
			}),
			then: []domain.Event{escalated()},
		},
		{
			name:  "a second escalation with its own id",
			given: history(acknowledged(), escalated()),
			when:  escalate(func(c *domain.EscalateSignal) { c.EscalationID = escalation2ID }),
			then: []domain.Event{func() domain.Event {
				e := escalated()
				e.EscalationID = escalation2ID
				return e
			}()},
		},
		{
			name:  "a short description may recur in the summary by chance",
			given: []domain.Event{reported(func(e *domain.SignalReported) { e.Description = "Wrong patient" }), acknowledged()},
			when:  escalate(func(c *domain.EscalateSignal) { c.Summary = "Wrong patient identified at the desk." }),
			then: []domain.Event{func() domain.Event {
				e := escalated()
				e.Summary = "Wrong patient identified at the desk."
				return e
			}()},
		},
		{
			name:    "an escalation id is used once",
			given:   history(acknowledged(), escalated()),
			when:    escalate(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a signal is acknowledged before it is escalated",
			given:   history(),
			when:    escalate(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a closed signal cannot be escalated",
			given:   history(acknowledged(), closed()),
			when:    escalate(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a rejected signal cannot be escalated",
			given:   history(acknowledged(), rejected()),
			when:    escalate(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a duplicate cannot be escalated",
			given:   history(acknowledged(), markedDuplicate()),
			when:    escalate(nil),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "everything missing",
			given:      history(acknowledged()),
			when:       domain.EscalateSignal{},
			wantFields: []string{"at", "escalationId", "targets", "message", "summary"},
		},
	})
}

func TestEscalateValidation(t *testing.T) {
	t.Parallel()
	many := make([]string, domain.MaxEscalationTargets+1)
	for i := range many {
		many[i] = fmt.Sprintf("org-%d", i)
	}
	manySpecialties := make([]domain.Specialty, domain.MaxEscalationTargets+1)
	for i := range manySpecialties {
		manySpecialties[i] = "surgery"
	}
	cases := []struct {
		name   string
		mod    func(*domain.EscalateSignal)
		fields []string
	}{
		{"an unknown specialty", func(c *domain.EscalateSignal) {
			c.Targets.Specialties = []domain.Specialty{"surgery", "astrology"}
		}, []string{"targets.specialties[1]"}},
		{"regions that are neither subdivision nor country", func(c *domain.EscalateSignal) {
			c.Targets.Regions = []string{"nl", "NL-UT", "NOR", "N1"}
		}, []string{"targets.regions[0]", "targets.regions[2]", "targets.regions[3]"}},
		{"an organisation that is no identifier", func(c *domain.EscalateSignal) {
			c.Targets.Organisations = []string{"st olav"}
		}, []string{"targets.organisations[0]"}},
		{"the signal's own organisation", func(c *domain.EscalateSignal) {
			c.Targets.Organisations = []string{"haukeland", "umc-utrecht"}
		}, []string{"targets.organisations[1]"}},
		{"too many organisations", func(c *domain.EscalateSignal) { c.Targets.Organisations = many }, []string{"targets.organisations"}},
		{"too many regions", func(c *domain.EscalateSignal) { c.Targets.Regions = many }, []string{"targets.regions"}},
		{"too many specialties", func(c *domain.EscalateSignal) { c.Targets.Specialties = manySpecialties }, []string{"targets.specialties"}},
		{"a blank message", func(c *domain.EscalateSignal) { c.Message = " " }, []string{"message"}},
		{"a summary quoting the reporter's description", func(c *domain.EscalateSignal) {
			c.Summary = "As reported: " + validReport().Description
		}, []string{"summary"}},
		{"a summary naming the reporter", func(c *domain.EscalateSignal) {
			c.Summary = "Ask subject-42 for details."
		}, []string{"summary"}},
	}
	specs := make([]spec, 0, len(cases))
	for _, c := range cases {
		specs = append(specs, spec{name: c.name, given: history(acknowledged()), when: escalate(c.mod), wantFields: c.fields})
	}
	specs = append(specs, spec{
		name:  "an anonymous signal has no reporter to name",
		given: []domain.Event{reported(func(e *domain.SignalReported) { e.Anonymous, e.Reporter = true, "" }), acknowledged()},
		when:  escalate(func(c *domain.EscalateSignal) { c.Summary = "Ask subject-42 for details." }),
		then: []domain.Event{func() domain.Event {
			e := escalated()
			e.Summary = "Ask subject-42 for details."
			return e
		}()},
	})
	runSpecs(t, specs)
}

func ackEscalation(r domain.Recipient) domain.AcknowledgeEscalation {
	return domain.AcknowledgeEscalation{EscalationID: escalationID, Recipient: r, At: hour(3)}
}

func TestAcknowledgeEscalation(t *testing.T) {
	t.Parallel()
	escalatedTo := func(targets domain.EscalationTargets) domain.SignalEscalated {
		e := escalated()
		e.Targets = targets
		return e
	}
	surgeon := domain.Recipient{Organisation: "haukeland", Specialty: "surgery", Region: "NO-46"}
	runSpecs(t, []spec{
		{
			name:  "an addressed colleague acknowledges",
			given: history(acknowledged(), escalated()),
			when:  ackEscalation(haukeland()),
			then:  []domain.Event{escalationAcknowledged(haukeland())},
		},
		{
			name:  "each addressed organisation acknowledges for itself",
			given: history(acknowledged(), escalated(), escalationAcknowledged(haukeland())),
			when:  ackEscalation(karolinska()),
			then:  []domain.Event{escalationAcknowledged(karolinska())},
		},
		{
			name:  "a country target addresses every region of the country",
			given: history(acknowledged(), escalatedTo(domain.EscalationTargets{Regions: []string{"NO"}})),
			when:  ackEscalation(surgeon),
			then:  []domain.Event{escalationAcknowledged(surgeon)},
		},
		{
			name:  "a region target addresses the region",
			given: history(acknowledged(), escalatedTo(domain.EscalationTargets{Regions: []string{"SE-AB"}})),
			when:  ackEscalation(karolinska()),
			then:  []domain.Event{escalationAcknowledged(karolinska())},
		},
		{
			name:  "an organisation target addresses every specialty there",
			given: history(acknowledged(), escalatedTo(domain.EscalationTargets{Organisations: []string{"haukeland"}})),
			when:  ackEscalation(surgeon),
			then:  []domain.Event{escalationAcknowledged(surgeon)},
		},
		{
			name:  "after the signal was closed",
			given: history(acknowledged(), escalated(), closed()),
			when:  ackEscalation(haukeland()),
			then:  []domain.Event{escalationAcknowledged(haukeland())},
		},
		{
			name:    "an organisation acknowledges once",
			given:   history(acknowledged(), escalated(), escalationAcknowledged(haukeland())),
			when:    ackEscalation(haukeland()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "also with another of its specialties",
			given:   history(acknowledged(), escalatedTo(domain.EscalationTargets{Organisations: []string{"haukeland"}}), escalationAcknowledged(haukeland())),
			when:    ackEscalation(surgeon),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "another specialty is not addressed",
			given:   history(acknowledged(), escalated()),
			when:    ackEscalation(surgeon),
			wantErr: domain.ErrNotAddressed,
		},
		{
			name:    "another region is not addressed",
			given:   history(acknowledged(), escalatedTo(domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"NO-46"}})),
			when:    ackEscalation(karolinska()),
			wantErr: domain.ErrNotAddressed,
		},
		{
			name:    "another organisation is not addressed",
			given:   history(acknowledged(), escalatedTo(domain.EscalationTargets{Organisations: []string{"karolinska"}})),
			when:    ackEscalation(haukeland()),
			wantErr: domain.ErrNotAddressed,
		},
		{
			name:    "the signal's own organisation is never addressed",
			given:   history(acknowledged(), escalated()),
			when:    ackEscalation(domain.Recipient{Organisation: "umc-utrecht", Specialty: "anaesthesiology", Region: "NL-UT"}),
			wantErr: domain.ErrNotAddressed,
		},
		{
			name:    "an escalation the signal does not have",
			given:   history(acknowledged(), escalated()),
			when:    domain.AcknowledgeEscalation{EscalationID: escalation2ID, Recipient: haukeland(), At: hour(3)},
			wantErr: domain.ErrUnknownEscalation,
		},
		{
			name:    "a rejected signal has withdrawn its escalations",
			given:   history(acknowledged(), escalated(), rejected()),
			when:    ackEscalation(haukeland()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a duplicate has withdrawn its escalations",
			given:   history(acknowledged(), escalated(), markedDuplicate()),
			when:    ackEscalation(haukeland()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a signal never reported",
			when:    ackEscalation(haukeland()),
			wantErr: domain.ErrNotFound,
		},
		{
			name:       "everything missing",
			given:      history(acknowledged(), escalated()),
			when:       domain.AcknowledgeEscalation{},
			wantFields: []string{"at", "escalationId", "recipient.organisation", "recipient.specialty", "recipient.region"},
		},
		{
			name:       "an unknown specialty and a malformed region",
			given:      history(acknowledged(), escalated()),
			when:       ackEscalation(domain.Recipient{Organisation: "haukeland", Specialty: "astrology", Region: "NO"}),
			wantFields: []string{"recipient.specialty", "recipient.region"},
		},
	})
}

func respond(r domain.Recipient) domain.RespondToEscalation {
	e := escalationResponded(r)
	return domain.RespondToEscalation{EscalationID: e.EscalationID, Recipient: r, Response: e.Response, Text: e.Text, At: e.RespondedAt}
}

func TestRespondToEscalation(t *testing.T) {
	t.Parallel()
	acked := history(acknowledged(), escalated(), escalationAcknowledged(haukeland()))
	runSpecs(t, []spec{
		{
			name:  "a colleague who acknowledged responds",
			given: acked,
			when:  respond(haukeland()),
			then:  []domain.Event{escalationResponded(haukeland())},
		},
		{
			name:  "without a text",
			given: acked,
			when: domain.RespondToEscalation{
				EscalationID: escalationID, Recipient: haukeland(), Response: domain.ResponseNotApplicable, At: hour(4),
			},
			then: []domain.Event{domain.EscalationResponded{
				SignalID: signalID, EscalationID: escalationID, Recipient: haukeland(), Response: domain.ResponseNotApplicable, RespondedAt: hour(4),
			}},
		},
		{
			name:  "after the signal was closed",
			given: append(acked, closed()),
			when:  respond(haukeland()),
			then:  []domain.Event{escalationResponded(haukeland())},
		},
		{
			name:    "an organisation responds once",
			given:   append(acked, escalationResponded(haukeland())),
			when:    respond(haukeland()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "an addressed colleague acknowledges before responding",
			given:   acked,
			when:    respond(karolinska()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:    "a colleague not addressed cannot respond",
			given:   acked,
			when:    respond(domain.Recipient{Organisation: "haukeland", Specialty: "surgery", Region: "NO-46"}),
			wantErr: domain.ErrNotAddressed,
		},
		{
			name:    "an escalation the signal does not have",
			given:   acked,
			when:    domain.RespondToEscalation{EscalationID: uuid.MustParse("0193a5f0-0000-7000-8000-0000000000e9"), Recipient: haukeland(), Response: domain.ResponseRiskAbsent, At: hour(4)},
			wantErr: domain.ErrUnknownEscalation,
		},
		{
			name:    "a rejected signal has withdrawn its escalations",
			given:   append(acked, rejected()),
			when:    respond(haukeland()),
			wantErr: domain.ErrIllegalTransition,
		},
		{
			name:       "an unknown response and a text too long",
			given:      acked,
			when:       domain.RespondToEscalation{EscalationID: escalationID, Recipient: haukeland(), Response: "maybe", Text: strings.Repeat("t", domain.MaxMessageLength+1), At: hour(4)},
			wantFields: []string{"response", "text"},
		},
		{
			name:       "everything missing",
			given:      acked,
			when:       domain.RespondToEscalation{},
			wantFields: []string{"at", "escalationId", "recipient.organisation", "recipient.specialty", "recipient.region", "response"},
		},
	})
}

func TestEscalationTargetsIncludes(t *testing.T) {
	t.Parallel()
	r := domain.Recipient{Organisation: "haukeland", Specialty: "anaesthesiology", Region: "NO-46"}
	for _, tc := range []struct {
		name    string
		targets domain.EscalationTargets
		want    bool
	}{
		{"no criteria at all", domain.EscalationTargets{}, true},
		{"the specialty", domain.EscalationTargets{Specialties: []domain.Specialty{"surgery", "anaesthesiology"}}, true},
		{"another specialty", domain.EscalationTargets{Specialties: []domain.Specialty{"surgery"}}, false},
		{"the region", domain.EscalationTargets{Regions: []string{"NO-46"}}, true},
		{"the country", domain.EscalationTargets{Regions: []string{"NO"}}, true},
		{"another region of the country", domain.EscalationTargets{Regions: []string{"NO-03"}}, false},
		{"another country", domain.EscalationTargets{Regions: []string{"SE"}}, false},
		{"the organisation", domain.EscalationTargets{Organisations: []string{"haukeland"}}, true},
		{"another organisation", domain.EscalationTargets{Organisations: []string{"st-olav"}}, false},
		{"specialty and country match", domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"NO"}}, true},
		{"specialty matches, country does not", domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"DK"}}, false},
		{"all three match", domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"NO"}, Organisations: []string{"haukeland"}}, true},
		{"organisation does not match", domain.EscalationTargets{Specialties: []domain.Specialty{"anaesthesiology"}, Regions: []string{"NO"}, Organisations: []string{"st-olav"}}, false},
	} {
		if got := tc.targets.Includes(r); got != tc.want {
			t.Errorf("%s: Includes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEscalationStates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []domain.Event
		want   domain.EscalationState
	}{
		{"just sent", history(acknowledged(), escalated()), domain.EscalationStateOpen},
		{"one acknowledged", history(acknowledged(), escalated(), escalationAcknowledged(haukeland())), domain.EscalationStateAcknowledged},
		{"one responded, one acknowledged", history(acknowledged(), escalated(),
			escalationAcknowledged(karolinska()), escalationAcknowledged(haukeland()), escalationResponded(haukeland())), domain.EscalationStateResponded},
	} {
		e, ok := domain.Fold(tc.events).Escalation(escalationID)
		if !ok {
			t.Fatalf("%s: escalation not found", tc.name)
		}
		if got := e.State(); got != tc.want {
			t.Errorf("%s: State = %s, want %s", tc.name, got, tc.want)
		}
	}
	s := domain.Fold(history(acknowledged(), escalated(), escalationAcknowledged(karolinska()), escalationAcknowledged(haukeland()), escalationResponded(haukeland())))
	e, _ := s.Escalation(escalationID)
	if r, ok := e.Receipt("karolinska"); !ok || r.State() != domain.EscalationStateAcknowledged {
		t.Errorf("karolinska's receipt: %+v, %v", r, ok)
	}
	if r, ok := e.Receipt("haukeland"); !ok || r.State() != domain.EscalationStateResponded || r.Response != domain.ResponseRiskPresent {
		t.Errorf("haukeland's receipt: %+v, %v", r, ok)
	}
	if _, ok := e.Receipt("st-olav"); ok {
		t.Error("st-olav never acknowledged but has a receipt")
	}
	if _, ok := s.Escalation(escalation2ID); ok {
		t.Error("an escalation that was never sent was found")
	}
	if s.Addresses(escalation2ID, haukeland()) {
		t.Error("an escalation that was never sent addresses someone")
	}
}
