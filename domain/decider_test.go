package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/safesignal/safesignal/domain"
)

// spec is one "given events, when command, then events (or error)" case.
type spec struct {
	name  string
	given []domain.Event
	when  domain.Command
	then  []domain.Event
	// wantFields lists the fields a ValidationError must name, in any order.
	wantFields []string
	// wantErr is matched with errors.Is when set.
	wantErr error
}

func (s spec) run(t *testing.T) {
	t.Helper()
	state := domain.Fold(s.given)
	got, err := domain.Decide(state, s.when)
	switch {
	case len(s.wantFields) > 0:
		var ve *domain.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("want a validation error naming %v, got events %v, err %v", s.wantFields, got, err)
		}
		named := map[string]bool{}
		for _, f := range ve.Fields {
			named[f.Field] = true
			if f.Message == "" || f.Code == "" {
				t.Errorf("field error %q has no code or message", f.Field)
			}
		}
		for _, f := range s.wantFields {
			if !named[f] {
				t.Errorf("validation error does not name %q: %v", f, ve)
			}
		}
		if len(named) != len(s.wantFields) {
			t.Errorf("validation error names %d fields, want %d: %v", len(named), len(s.wantFields), ve)
		}
	case s.wantErr != nil:
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("want error %v, got %v (events %v)", s.wantErr, err, got)
		}
	default:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if !reflect.DeepEqual(got, s.then) {
			t.Fatalf("events differ\n got: %#v\nwant: %#v", got, s.then)
		}
	}
	if err != nil && got != nil {
		t.Errorf("an error must come without events, got %v", got)
	}
}

func runSpecs(t *testing.T, specs []spec) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t)
		})
	}
}
