package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/safesignal/safesignal/domain"
)

// Config is the policy file (JSON): escalation rules, reminder windows and
// webhook receivers.
type Config struct {
	Rules     []Rule    `json:"rules"`
	Reminders Reminders `json:"reminders"`
	Webhooks  []Webhook `json:"webhooks"`
}

// Rule escalates every signal that matches When, once, as soon as a
// safety officer has acknowledged it (escalation needs an acknowledged
// signal) or reclassified it into the rule's reach.
type Rule struct {
	ID   string `json:"id"`
	When struct {
		Kinds       []domain.Kind      `json:"kinds"`
		Categories  []domain.Category  `json:"categories"`
		Specialties []domain.Specialty `json:"specialties"`
		// MinHarm matches signals at this degree of harm or worse.
		MinHarm domain.Harm `json:"minHarm"`
	} `json:"when"`
	Escalate struct {
		// SameSpecialty targets the signal's own specialty.
		SameSpecialty bool               `json:"sameSpecialty"`
		Specialties   []domain.Specialty `json:"specialties"`
		Regions       []string           `json:"regions"`
		Organisations []string           `json:"organisations"`
	} `json:"escalate"`
	// Message goes to the colleagues with the escalation.
	Message string `json:"message"`
}

// Reminders are the windows after which reminders go out.
type Reminders struct {
	// EscalationUnacknowledged: an escalation nobody acknowledged within
	// this time is sent again as a reminder (once per escalation).
	EscalationUnacknowledged Duration `json:"escalationUnacknowledged"`
	// DeadlineAhead: a pending regulatory deadline this close gets a
	// reminder to the organisation (once per deadline).
	DeadlineAhead Duration `json:"deadlineAhead"`
	// Every is how often due reminders are looked for (default 30s).
	Every Duration `json:"every"`
}

// Webhook is a receiver of notifications, signed with HMAC-SHA256.
type Webhook struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// Duration is a time.Duration written as "48h" in JSON.
type Duration struct{ time.Duration }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"48h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want a positive duration such as \"48h\"", s)
	}
	d.Duration = v
	return nil
}

// NotificationKinds lists what a webhook can subscribe to.
func NotificationKinds() []string {
	return []string{KindEscalated, KindEscalationReminder, KindDeadlineReminder, KindRuleEscalated}
}

// LoadConfig reads and checks a policy file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("policy file: %w", err)
	}
	return ParseConfig(data)
}

// ParseConfig parses and checks a policy file's content.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("policy file: %w", err)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	ids := map[string]bool{}
	for i, r := range c.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.ID == "" || ids[r.ID] {
			errs = append(errs, fmt.Errorf("%s: a unique id is required", where))
		}
		ids[r.ID] = true
		for _, k := range r.When.Kinds {
			if !k.Valid() {
				errs = append(errs, fmt.Errorf("%s: unknown kind %q", where, k))
			}
		}
		for _, cat := range r.When.Categories {
			if !cat.Valid() {
				errs = append(errs, fmt.Errorf("%s: unknown category %q", where, cat))
			}
		}
		for _, s := range append(slices.Clone(r.When.Specialties), r.Escalate.Specialties...) {
			if !s.Valid() {
				errs = append(errs, fmt.Errorf("%s: unknown specialty %q", where, s))
			}
		}
		if r.When.MinHarm != "" && !r.When.MinHarm.Valid() {
			errs = append(errs, fmt.Errorf("%s: unknown harm %q", where, r.When.MinHarm))
		}
		if !r.Escalate.SameSpecialty && len(r.Escalate.Specialties) == 0 && len(r.Escalate.Regions) == 0 && len(r.Escalate.Organisations) == 0 {
			errs = append(errs, fmt.Errorf("%s: escalate to whom? set sameSpecialty, specialties, regions or organisations", where))
		}
		if r.Message == "" {
			errs = append(errs, fmt.Errorf("%s: a message for the colleagues is required", where))
		}
	}
	for i, w := range c.Webhooks {
		where := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: url must be an http(s) URL", where))
		}
		if len(w.Secret) < 16 {
			errs = append(errs, fmt.Errorf("%s: secret must be at least 16 characters", where))
		}
		if w.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		}
		for _, e := range w.Events {
			if !slices.Contains(NotificationKinds(), e) {
				errs = append(errs, fmt.Errorf("%s: unknown event %q (one of %v)", where, e, NotificationKinds()))
			}
		}
	}
	return errors.Join(errs...)
}

// matches reports whether the rule applies to the signal's current state.
func (r Rule) matches(s domain.Signal) bool {
	w := r.When
	return (len(w.Kinds) == 0 || slices.Contains(w.Kinds, s.Kind)) &&
		(len(w.Categories) == 0 || slices.Contains(w.Categories, s.Category)) &&
		(len(w.Specialties) == 0 || slices.Contains(w.Specialties, s.Specialty)) &&
		(w.MinHarm == "" || s.Harm.Rank() >= w.MinHarm.Rank())
}

func (r Rule) targets(s domain.Signal) domain.EscalationTargets {
	t := domain.EscalationTargets{
		Specialties:   slices.Clone(r.Escalate.Specialties),
		Regions:       slices.Clone(r.Escalate.Regions),
		Organisations: slices.Clone(r.Escalate.Organisations),
	}
	if r.Escalate.SameSpecialty && !slices.Contains(t.Specialties, s.Specialty) {
		t.Specialties = append(t.Specialties, s.Specialty)
	}
	return t
}
